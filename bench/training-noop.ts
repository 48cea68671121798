/**
 * A no-op training job (tiny image, no channels) from CreateTrainingJob to
 * Completed, observed by a client polling DescribeTrainingJob every 50 ms,
 * against `docker run --rm IMAGE true` in the same run. 10 rounds each,
 * interleaved; prints the medians and their ratio. Goal: at most 1.5x.
 */
import { CreateTrainingJobCommand, DescribeTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { exec, fmt, header, median, requireImage, role, sleep, startSagebox } from './lib';

const IMAGE = 'sagebox/base:bookworm';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

async function main(): Promise<void> {
  await requireImage(IMAGE);
  const sb = await startSagebox({ stopGraceSeconds: { jobs: 5, endpoints: 5 } });
  const direct: number[] = [];
  const viaSagebox: number[] = [];
  try {
    // Warm both paths once (image layers, first container on the bridge).
    await exec('docker', ['run', '--rm', IMAGE, 'true']);
    for (let i = 0; i <= ROUNDS; i++) {
      let t = performance.now();
      await exec('docker', ['run', '--rm', IMAGE, 'true']);
      const d = performance.now() - t;
      const name = `noop-${Date.now()}-${i}`;
      t = performance.now();
      await sb.sagemaker.send(new CreateTrainingJobCommand({
        TrainingJobName: name,
        RoleArn: role,
        AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File', ContainerEntrypoint: ['true'] },
        OutputDataConfig: { S3OutputPath: `file://${sb.dataDir}/model-out` },
        ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
        StoppingCondition: { MaxRuntimeInSeconds: 600 },
      }));
      for (;;) {
        const r = await sb.sagemaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name }));
        if (r.TrainingJobStatus === 'Completed') break;
        if (r.TrainingJobStatus !== 'InProgress') throw new Error(`${name}: ${r.TrainingJobStatus} ${r.FailureReason}`);
        await sleep(50);
      }
      const s = performance.now() - t;
      if (i > 0) {
        direct.push(d);
        viaSagebox.push(s);
      }
    }
  } finally {
    await sb.stop();
  }
  header('no-op training job vs docker run --rm IMAGE true');
  console.log(`rounds: ${ROUNDS}`);
  console.log(`docker run median: ${fmt(median(direct))} ms`);
  console.log(`sagebox CreateTrainingJob -> Completed median: ${fmt(median(viaSagebox))} ms`);
  console.log(`ratio (sagebox / docker run): ${fmt(median(viaSagebox) / median(direct))}x (goal <= 1.5x)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
