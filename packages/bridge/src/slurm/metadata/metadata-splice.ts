import { entryOf, parseJsonSpans } from './json-spans.js';

/** A metadata entry to add: its key and its value as serialised JSON (`{"raw_value": …, "type": …}`). */
export type MetadataEntryText = readonly [key: string, valueJson: string];

/** What {@link addMetadataEntries} did. */
export interface SplicedLine {
  /** The message line with the entries added. */
  line: string;
  /** Keys not added because the payload had already set them (the payload's value is kept). */
  kept: string[];
}

/**
 * Adds entries to `params.metadata` of a serialised `report_asset_materialization` (or
 * `report_asset_check`) message by splicing text: every byte the payload wrote stays as it was,
 * so a `1.0` float is still a float when Dagster parses it. `metadata: null` (Python's writer
 * sends that for no metadata) becomes an object; an absent `metadata` key is added.
 * @throws {SyntaxError} when `line` is not JSON or has no `params` object.
 */
export function addMetadataEntries(line: string, entries: readonly MetadataEntryText[]): SplicedLine {
  const root = parseJsonSpans(line);
  const params = entryOf(root, 'params');
  if (params?.kind !== 'object') throw new SyntaxError('The message has no "params" object.');
  const metadata = entryOf(params, 'metadata');
  const existing = new Set(metadata?.kind === 'object' ? metadata.entries.map((entry) => entry.key) : []);
  const kept = entries.filter(([key]) => existing.has(key)).map(([key]) => key);
  const added = entries.filter(([key]) => !existing.has(key));
  if (added.length === 0) return { line, kept };
  const members = added.map(([key, value]) => `${JSON.stringify(key)}: ${value}`).join(', ');

  const splice = (at: number, remove: number, insert: string) =>
    line.slice(0, at) + insert + line.slice(at + remove);
  if (metadata === undefined) {
    const last = params.entries.at(-1);
    const at = last === undefined ? params.start + 1 : last.value.end;
    return { line: splice(at, 0, `${last === undefined ? '' : ', '}"metadata": {${members}}`), kept };
  }
  if (metadata.kind !== 'object') {
    return { line: splice(metadata.start, metadata.end - metadata.start, `{${members}}`), kept };
  }
  const last = metadata.entries.at(-1);
  const at = last === undefined ? metadata.start + 1 : last.value.end;
  return { line: splice(at, 0, last === undefined ? members : `, ${members}`), kept };
}
