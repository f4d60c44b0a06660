// A Node/TypeScript payload: what a worker written with @slurm-pipes/pipes-protocol looks like.
// `npm start` runs it through the bridge with no Dagster and no cluster.
import { openDagsterPipes, PipesMetadataValues } from '@slurm-pipes/pipes-protocol';

await using pipes = openDagsterPipes();
const greeting = pipes.isPartitionStep
  ? `${String(pipes.getExtra('greeting'))} for ${pipes.partitionKey}`
  : 'hello';
pipes.log.info(`worker started: ${greeting}`);

const rows = Array.from({ length: 5 }, (_, i) => ({ id: i, value: i * i }));
pipes.reportAssetMaterialization({
  metadata: {
    rows: rows.length,
    mean: PipesMetadataValues.float(rows.reduce((s, r) => s + r.value, 0) / rows.length),
    preview: PipesMetadataValues.json(rows.slice(0, 2)),
  },
  dataVersion: 'v1',
});
pipes.reportAssetCheck({ checkName: 'non_empty', passed: rows.length > 0 });
