#!/usr/bin/env bash
# The seller kit with the AWS CLI (v2): the same steps as run.ts.
#   seller: upload the validation data, create-algorithm from algorithm.json,
#           wait for its validation (training job, then batch transform);
#   buyer:  train by algorithm name, model package of the artifacts, model from
#           the package, endpoint, invoke-endpoint; then delete the endpoint,
#           its configuration and the model.
# Environment: SAGEBOX_URL (default http://127.0.0.1:4780), KIT_NAME (default
# seed001-logreg), AWS_CLI (default /usr/bin/aws), AWS credentials and region
# (default test/test/us-east-1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
URL="${SAGEBOX_URL:-http://127.0.0.1:4780}"
KIT="${KIT_NAME:-seed001-logreg}"
AWS="${AWS_CLI:-/usr/bin/aws}"
BUCKET=seed001-seller-kit
ROLE=arn:aws:iam::000000000000:role/SageMakerRole
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}" AWS_PAGER=""
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# CLI v2 releases before 2.13 do not read AWS_ENDPOINT_URL: pass the endpoint on every call.
aws_() { "$AWS" --endpoint-url "$URL" --output json "$@"; }
say() { echo "== $*"; }

# wait_for WHAT "DONE1 DONE2" COMMAND...: runs COMMAND (printing a status) every second until the status is one of DONE.
wait_for() {
  local what="$1" done="$2" last="" st
  shift 2
  for _ in $(seq 1 900); do
    st="$("$@")"
    [ "$st" != "$last" ] && echo "   $what: $st"
    last="$st"
    for d in $done; do [ "$st" = "$d" ] && { echo "$st" > "$work/status"; return 0; }; done
    sleep 1
  done
  echo "$what is still $st after 900 s" >&2
  return 1
}

say "seller: uploading the validation data to s3://$BUCKET/"
aws_ s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1 || aws_ s3 mb "s3://$BUCKET" >/dev/null
aws_ s3 cp --only-show-errors "$here/data/validation-train.csv" "s3://$BUCKET/validation-data/train/train.csv"
aws_ s3 cp --only-show-errors "$here/data/validation-transform.csv" "s3://$BUCKET/validation-data/transform/rows.csv"

say "seller: create-algorithm $KIT (algorithm.json, with a validation profile)"
# The kit name replaces the default one everywhere: the algorithm's name and its validation output prefixes.
sed "s/seed001-logreg/$KIT/g" "$here/algorithm.json" > "$work/algorithm.json"
ALGORITHM_ARN="$(aws_ sagemaker create-algorithm --cli-input-json "file://$work/algorithm.json" --query AlgorithmArn --output text)"
echo "   $ALGORITHM_ARN"
wait_for algorithm "Completed Failed" aws_ sagemaker describe-algorithm --algorithm-name "$KIT" --query AlgorithmStatus --output text
aws_ sagemaker describe-algorithm --algorithm-name "$KIT" --query 'AlgorithmStatusDetails.ValidationStatuses[].[Name,Status,FailureReason]' --output text | sed 's/^/   validation /'
[ "$(cat "$work/status")" = Completed ] || { echo "the algorithm's validation failed" >&2; exit 1; }

say "buyer: training on their own data by algorithm name"
aws_ s3 cp --only-show-errors "$here/data/buyer-train.csv" "s3://$BUCKET/$KIT/buyer/train/train.csv"
JOB="$(echo "$KIT-buyer-$(date +%s)" | cut -c1-63)"
cat > "$work/training.json" <<JSON
{
  "TrainingJobName": "$JOB",
  "RoleArn": "$ROLE",
  "AlgorithmSpecification": { "AlgorithmName": "$ALGORITHM_ARN", "TrainingInputMode": "File" },
  "HyperParameters": { "epochs": "20", "learning_rate": "constant", "eta0": "0.05" },
  "InputDataConfig": [{ "ChannelName": "train", "ContentType": "text/csv",
    "DataSource": { "S3DataSource": { "S3DataType": "S3Prefix", "S3Uri": "s3://$BUCKET/$KIT/buyer/train/" } } }],
  "OutputDataConfig": { "S3OutputPath": "s3://$BUCKET/$KIT/buyer/output" },
  "ResourceConfig": { "InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1 },
  "StoppingCondition": { "MaxRuntimeInSeconds": 600 }
}
JSON
aws_ sagemaker create-training-job --cli-input-json "file://$work/training.json" >/dev/null
wait_for "$JOB" "Completed Failed Stopped" aws_ sagemaker describe-training-job --training-job-name "$JOB" --query TrainingJobStatus --output text
[ "$(cat "$work/status")" = Completed ] || { aws_ sagemaker describe-training-job --training-job-name "$JOB" --query FailureReason --output text >&2; exit 1; }
aws_ sagemaker describe-training-job --training-job-name "$JOB" --query 'FinalMetricDataList[].[MetricName,Value]' --output text | sed 's/^/   /'
ARTIFACTS="$(aws_ sagemaker describe-training-job --training-job-name "$JOB" --query ModelArtifacts.S3ModelArtifacts --output text)"
echo "   model: $ARTIFACTS"

say "buyer: model package from the artifacts (source algorithm)"
PACKAGE="$KIT-package"
PACKAGE_ARN="$(aws_ sagemaker create-model-package --model-package-name "$PACKAGE" \
  --model-package-description "$KIT trained by $JOB" \
  --source-algorithm-specification "{\"SourceAlgorithms\":[{\"AlgorithmName\":\"$ALGORITHM_ARN\",\"ModelDataUrl\":\"$ARTIFACTS\"}]}" \
  --query ModelPackageArn --output text)"
wait_for "model package" "Completed Failed" aws_ sagemaker describe-model-package --model-package-name "$PACKAGE" --query ModelPackageStatus --output text
[ "$(cat "$work/status")" = Completed ] || exit 1

say "buyer: model from the package, endpoint, invoke-endpoint"
MODEL="$KIT-model" CONFIG="$KIT-config" EP="$KIT-endpoint"
cleanup() {
  say "clean-up: endpoint, endpoint configuration, model"
  aws_ sagemaker delete-endpoint --endpoint-name "$EP" || true
  aws_ sagemaker delete-endpoint-config --endpoint-config-name "$CONFIG" || true
  aws_ sagemaker delete-model --model-name "$MODEL" || true
  rm -rf "$work"
}
trap cleanup EXIT
aws_ sagemaker create-model --model-name "$MODEL" --execution-role-arn "$ROLE" --enable-network-isolation \
  --containers "[{\"ModelPackageName\":\"$PACKAGE_ARN\"}]" >/dev/null
aws_ sagemaker create-endpoint-config --endpoint-config-name "$CONFIG" \
  --production-variants "[{\"VariantName\":\"AllTraffic\",\"ModelName\":\"$MODEL\",\"InitialInstanceCount\":1,\"InstanceType\":\"ml.m5.large\"}]" >/dev/null
aws_ sagemaker create-endpoint --endpoint-name "$EP" --endpoint-config-name "$CONFIG" >/dev/null
wait_for endpoint "InService Failed" aws_ sagemaker describe-endpoint --endpoint-name "$EP" --query EndpointStatus --output text
[ "$(cat "$work/status")" = InService ] || exit 1
aws_ sagemaker-runtime invoke-endpoint --endpoint-name "$EP" --content-type text/csv --accept text/csv \
  --body "fileb://$here/data/invoke.csv" "$work/predictions.csv" >/dev/null
echo "   $(wc -l < "$here/data/invoke.csv") rows -> predictions: $(tr '\n' ' ' < "$work/predictions.csv")"
echo "PREDICTIONS $(paste -sd, "$work/predictions.csv")"
say done
