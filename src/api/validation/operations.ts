/**
 * Every operation sagebox validates, per service. scripts/gen-constraints.ts
 * extracts their input constraints from the AWS models; add an operation here
 * (and regenerate) before registering its handler.
 */
export const OPERATIONS = {
  sagemaker: [
    'CreateTrainingJob', 'DescribeTrainingJob', 'ListTrainingJobs', 'StopTrainingJob',
    'CreateProcessingJob', 'DescribeProcessingJob', 'ListProcessingJobs', 'StopProcessingJob',
    'CreateTransformJob', 'DescribeTransformJob', 'ListTransformJobs', 'StopTransformJob',
    'CreateModel', 'DescribeModel', 'ListModels', 'DeleteModel',
    'CreateEndpointConfig', 'DescribeEndpointConfig', 'ListEndpointConfigs', 'DeleteEndpointConfig',
    'CreateEndpoint', 'DescribeEndpoint', 'ListEndpoints', 'UpdateEndpoint',
    'UpdateEndpointWeightsAndCapacities', 'DeleteEndpoint',
    'CreateAlgorithm', 'DescribeAlgorithm', 'ListAlgorithms', 'DeleteAlgorithm',
    'CreateModelPackage', 'DescribeModelPackage', 'ListModelPackages', 'UpdateModelPackage', 'DeleteModelPackage',
    'CreateModelPackageGroup', 'DescribeModelPackageGroup', 'ListModelPackageGroups', 'DeleteModelPackageGroup',
    'AddTags', 'ListTags', 'DeleteTags',
  ],
  runtime: ['InvokeEndpoint'],
  logs: ['DescribeLogGroups', 'DescribeLogStreams', 'GetLogEvents', 'FilterLogEvents', 'PutRetentionPolicy', 'DeleteLogGroup'],
} as const;
