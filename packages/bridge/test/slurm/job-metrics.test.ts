import { describe, expect, it } from 'vitest';
import { hostlistCount } from '../../src/slurm/job-metrics.js';

describe('hostlistCount', () => {
  it.each([
    ['n1', 1],
    ['n[1-2]', 2],
    ['n[1-3,7]', 4],
    ['n[01-10]', 10],
    ['a[1-2]b[1-3],c', 7],
    ['node1,node2,gpu[1-4]', 6],
  ])('%s names %i hosts', (list, count) => {
    expect(hostlistCount(list)).toBe(count);
  });

  it.each([[''], ['n[3-1]'], ['n[x]']])('rejects %j', (list) => {
    expect(hostlistCount(list)).toBeUndefined();
  });
});
