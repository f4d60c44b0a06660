import { describe, expect, it } from 'vitest';
import {
  formatSlurmDuration,
  parseMemoryRequest,
  parseSacctSize,
  parseSlurmDuration,
  parseTimeLimit,
} from '../../src/slurm/index.js';

describe('parseTimeLimit (sbatch --time)', () => {
  it.each<[string, number | undefined]>([
    ['00:30:00', 1800],
    ['30', 1800],
    ['90:30', 90 * 60 + 30],
    ['48:00:00', 48 * 3600],
    ['2-00', 2 * 86_400],
    ['1-12:30', 86_400 + 12 * 3600 + 30 * 60],
    ['7-00:00:00', 7 * 86_400],
    ['UNLIMITED', Number.POSITIVE_INFINITY],
    ['infinite', Number.POSITIVE_INFINITY],
    ['Unlimited', Number.POSITIVE_INFINITY],
    [' 01:00:00 ', 3600],
    ['00:75:00', undefined],
    ['1-25:00:00', undefined],
    ['1:2:3:4', undefined],
    ['1h', undefined],
    ['', undefined],
    ['-5', undefined],
  ])('%j → %s', (text, seconds) => {
    expect(parseTimeLimit(text)).toBe(seconds);
  });
});

describe('parseSlurmDuration (squeue/sacct)', () => {
  it.each<[string, number | undefined]>([
    ['00:01:05', 65],
    ['1-02:03:04', 93_784],
    ['12-00:00:00', 12 * 86_400],
    ['01:42.250', 102.25],
    ['00:00.002', 0.002],
    ['100:00:00', 360_000],
    ['', undefined],
    ['Unknown', undefined],
    ['INVALID', undefined],
    ['None', undefined],
  ])('%j → %s', (text, seconds) => {
    expect(parseSlurmDuration(text)).toBe(seconds);
  });
});

describe('formatSlurmDuration', () => {
  it.each<[number, string]>([
    [1800, '00:30:00'],
    [59.2, '00:01:00'],
    [86_400, '1-00:00:00'],
    [93_784, '1-02:03:04'],
    [Number.POSITIVE_INFINITY, 'UNLIMITED'],
  ])('%s → %s', (seconds, text) => {
    expect(formatSlurmDuration(seconds)).toBe(text);
  });
});

describe('memory sizes', () => {
  it.each<[string, { text: string; mebibytes: number } | undefined]>([
    ['4096M', { text: '4096M', mebibytes: 4096 }],
    ['4096', { text: '4096', mebibytes: 4096 }],
    ['32g', { text: '32G', mebibytes: 32_768 }],
    ['1T', { text: '1T', mebibytes: 1_048_576 }],
    ['512K', { text: '512K', mebibytes: 1 }],
    ['0', { text: '0', mebibytes: 0 }],
    ['4GB', undefined],
    ['4.5G', undefined],
    ['4 G', undefined],
    ['-1', undefined],
  ])('parseMemoryRequest(%j)', (text, expected) => {
    expect(parseMemoryRequest(text)).toEqual(expected);
  });

  it.each<[string, number | undefined]>([
    ['150324K', 150_324 * 1024],
    ['12.50M', 12.5 * 1024 ** 2],
    ['1.50G', Math.round(1.5 * 1024 ** 3)],
    ['884K', 884 * 1024],
    ['0', 0],
    ['2048', 2048],
    ['', undefined],
    ['Unknown', undefined],
  ])('parseSacctSize(%j) → %s', (text, bytes) => {
    expect(parseSacctSize(text)).toBe(bytes);
  });
});
