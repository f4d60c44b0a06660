import { PipesError } from '../errors.js';
import { parseEscapedAssetKey } from '../host/asset-key.js';

/**
 * Splits an escaped asset key string into its parts (dagster_pipes.to_asset_key_path); the same
 * rules as the host side's {@link parseEscapedAssetKey}.
 */
export const toAssetKeyPath: (assetKey: string) => string[] = parseEscapedAssetKey;

/**
 * Picks the asset key a report applies to. Mirrors dagster_pipes._resolve_optionally_passed_asset_key:
 * a given key must be one of the step's keys; without one, the step must target exactly one asset.
 * An empty string counts as not given, as in Python.
 * @throws {PipesError} `ERR_PIPES_ASSET_KEY` with Python's message.
 */
export function resolveAssetKey(
  stepAssetKeys: readonly string[] | null,
  assetKey: unknown,
  method: string,
): string {
  if (assetKey !== undefined && assetKey !== null && typeof assetKey !== 'string') {
    throw new PipesError(
      'ERR_PIPES_ASSET_KEY',
      `Invalid type for parameter \`asset_key\` of \`${method}\`. Expected a string (escaped asset key, see toEscapedAssetKey), got \`${typeof assetKey}\`.`,
    );
  }
  let key = typeof assetKey === 'string' ? assetKey : '';
  if (stepAssetKeys !== null && stepAssetKeys.length > 0) {
    if (key !== '' && !stepAssetKeys.includes(key)) {
      throw new PipesError(
        'ERR_PIPES_ASSET_KEY',
        `Invalid asset key. Expected one of \`${JSON.stringify(stepAssetKeys)}\`, got \`${key}\`.`,
      );
    }
    if (key === '') {
      if (stepAssetKeys.length !== 1) {
        throw new PipesError(
          'ERR_PIPES_ASSET_KEY',
          `Calling \`${method}\` without passing an asset key is undefined. Current step targets multiple assets.`,
        );
      }
      key = stepAssetKeys[0] as string;
    }
  }
  if (key === '') {
    throw new PipesError(
      'ERR_PIPES_ASSET_KEY',
      `Calling \`${method}\` without passing an asset key is undefined. Current step does not target a specific asset.`,
    );
  }
  return key;
}
