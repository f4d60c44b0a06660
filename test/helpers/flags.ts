// Test flags, parsed in one place. Under CI=true a missing prerequisite (Dagster, a cluster) is
// a failure, never a skip; on a developer's machine it is a skip with the reason printed.
export const isCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Returns a reason to skip when `missing` names a prerequisite that is absent, or throws under CI.
 * Use as `describe.skipIf(skipReason(...) !== undefined)`.
 */
export function skipReason(missing: string | undefined): string | undefined {
  if (missing === undefined) return undefined;
  if (isCI) throw new Error(`CI=true and a prerequisite is missing: ${missing}`);
  console.warn(`skipping: ${missing}`);
  return missing;
}
