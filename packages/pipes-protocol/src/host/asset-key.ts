// Mirrors Dagster's AssetKey.to_escaped_user_string / dagster_pipes.to_asset_key_path: parts are
// joined with `/`; inside a part `\` is written `\\` and `/` is written `\/`.

const ESCAPE = '\\';
const DELIMITER = '/';

/**
 * Joins asset-key path parts into Dagster's escaped user string, the form context data carries
 * in `asset_keys` and messages carry in `asset_key`.
 *
 * @example toEscapedAssetKey(['warehouse', 'daily/sales']) // 'warehouse/daily\\/sales'
 * @throws {TypeError} when `parts` is empty (an asset key has at least one part).
 */
export function toEscapedAssetKey(parts: readonly string[]): string {
  if (parts.length === 0) throw new TypeError('An asset key needs at least one path part; got [].');
  return parts
    .map((part) => part.replaceAll(ESCAPE, ESCAPE + ESCAPE).replaceAll(DELIMITER, ESCAPE + DELIMITER))
    .join(DELIMITER);
}

/**
 * Splits Dagster's escaped user string into path parts, exactly as
 * `AssetKey.from_escaped_user_string` does: an unescaped `/` separates parts, a backslash takes
 * the next character literally. Like Python, an empty last part (`"a/"`) and a dangling trailing
 * backslash are dropped, and `""` gives `[]`.
 */
export function parseEscapedAssetKey(escaped: string): string[] {
  const parts: string[] = [];
  let current = '';
  let escapeNext = false;
  for (const char of escaped) {
    if (escapeNext) {
      current += char;
      escapeNext = false;
    } else if (char === ESCAPE) {
      escapeNext = true;
    } else if (char === DELIMITER) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current !== '') parts.push(current);
  return parts;
}
