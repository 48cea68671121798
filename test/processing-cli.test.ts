/**
 * Seed 000 end to end with AWS CLI v2 (/usr/bin/aws): the seed's processing
 * image run with ContainerEntrypoint [python3, -v, /processing_script.py] and
 * ContainerArguments [data-format, csv]; ExitMessage carries the script's
 * summary; a run with an unsupported format fails with the AlgorithmError
 * reason and the script's message.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from './helpers/server';
import { awsCli } from './helpers/clients';
import { getObject, jobLogs, jobName, listKeys, putObject, sleep, stopAndClean } from './helpers/processing';

const IMAGE = 'sagebox-examples/seed000-processing:latest';
const BUCKET = 'seed000-bucket';

let s: TestServer;
before(async () => {
  s = await startServer({ stopGraceSeconds: { jobs: 3, endpoints: 3 } });
  await putObject(s, 'raw/csv/data.csv', ' a , b ,c\n\n1,  2,3 \n,,\n4,5,6\n', BUCKET);
  await putObject(s, 'raw/csv/more/extra.csv', 'x,y\n7,8\n', BUCKET);
});
after(async () => stopAndClean(s));

async function createWithCli(name: string, args: string[]): Promise<string> {
  const r = await awsCli(s.clientEnv, [
    'sagemaker', 'create-processing-job',
    '--processing-job-name', name,
    '--role-arn', 'arn:aws:iam::123456789012:role/SageMakerRole',
    '--app-specification', JSON.stringify({ ImageUri: IMAGE, ContainerEntrypoint: ['python3', '-v', '/processing_script.py'], ContainerArguments: args }),
    '--processing-resources', 'ClusterConfig={InstanceCount=1,InstanceType=ml.m5.xlarge,VolumeSizeInGB=5}',
    '--processing-inputs', JSON.stringify([{ InputName: 'csv', S3Input: { S3Uri: `s3://${BUCKET}/raw/csv`, LocalPath: '/opt/ml/processing/csv', S3DataType: 'S3Prefix', S3InputMode: 'File' } }]),
    '--processing-output-config', JSON.stringify({ Outputs: [{ OutputName: 'processed', S3Output: { S3Uri: `s3://${BUCKET}/${name}/processed_csv`, LocalPath: '/opt/ml/processing/processed_csv', S3UploadMode: 'EndOfJob' } }] }),
    '--stopping-condition', 'MaxRuntimeInSeconds=600',
  ]);
  return r.json.ProcessingJobArn;
}

/** `aws sagemaker wait processing-job-completed-or-stopped` polls every 60 s; poll describe-processing-job every second instead. */
async function waitWithCli(name: string): Promise<any> {
  for (let i = 0; i < 240; i++) {
    const d = (await awsCli(s.clientEnv, ['sagemaker', 'describe-processing-job', '--processing-job-name', name])).json;
    if (['Completed', 'Failed', 'Stopped'].includes(d.ProcessingJobStatus)) return d;
    await sleep(1000);
  }
  throw new Error(`${name} did not finish`);
}

describe('seed 000 through AWS CLI v2', { concurrency: true }, () => {
  it('runs the seed container with ContainerEntrypoint and ContainerArguments; ExitMessage is its summary', async () => {
    const name = jobName('seed000');
    const arn = await createWithCli(name, ['data-format', 'csv']);
    assert.equal(arn, `arn:aws:sagemaker:us-east-1:000000000000:processing-job/${name}`);
    const d = await waitWithCli(name);
    assert.equal(d.ProcessingJobStatus, 'Completed', d.FailureReason);
    assert.deepEqual(d.AppSpecification, { ImageUri: IMAGE, ContainerEntrypoint: ['python3', '-v', '/processing_script.py'], ContainerArguments: ['data-format', 'csv'] });
    assert.match(d.ExitMessage, /^processed 2 file\(s\) as csv, 5 records into \/opt\/ml\/processing\/processed_csv in [\d.]+s$/);
    assert.equal(typeof d.CreationTime, 'string', 'the CLI renders timestamps');
    assert.deepEqual(await listKeys(s, `${name}/processed_csv/`, BUCKET), [`${name}/processed_csv/data.csv`, `${name}/processed_csv/more/extra.csv`]);
    assert.equal(await getObject(s, `${name}/processed_csv/data.csv`, BUCKET), 'a,b,c\n1,2,3\n4,5,6\n');
    const lines = [...jobLogs(s, name).values()].flat();
    assert.ok(lines.includes('processing_script.py: data-format=csv args=["data-format", "csv"]'), 'the arguments reached the script');
    assert.ok(lines.some((l) => l.startsWith('import ')), 'python3 -v (from ContainerEntrypoint) traced its imports');

    const listed = (await awsCli(s.clientEnv, ['sagemaker', 'list-processing-jobs', '--name-contains', name, '--status-equals', 'Completed'])).json;
    assert.deepEqual(listed.ProcessingJobSummaries.map((x: any) => [x.ProcessingJobName, x.ExitMessage]), [[name, d.ExitMessage]]);
  });

  it('a failing run: Failed with the AlgorithmError reason and the script message', async () => {
    const name = jobName('seed000-bad');
    await createWithCli(name, ['data-format', 'yaml']);
    const d = await waitWithCli(name);
    assert.equal(d.ProcessingJobStatus, 'Failed');
    assert.equal(d.FailureReason, 'AlgorithmError: , exit code: 1');
    assert.equal(d.ExitMessage, "error: unsupported data-format 'yaml' (use one of csv, json, raw, text)");
    assert.ok(d.ProcessingEndTime);
    const failed = (await awsCli(s.clientEnv, ['sagemaker', 'list-processing-jobs', '--name-contains', name, '--status-equals', 'Failed'])).json;
    assert.equal(failed.ProcessingJobSummaries[0].FailureReason, 'AlgorithmError: , exit code: 1');
  });

  it('an unknown job: the CLI reports the ValidationException', async () => {
    await assert.rejects(awsCli(s.clientEnv, ['sagemaker', 'describe-processing-job', '--processing-job-name', 'not-there']), (e: any) => {
      assert.match(e.stderr, /An error occurred \(ValidationException\) when calling the DescribeProcessingJob operation: Requested resource not found\./);
      return true;
    });
  });
});
