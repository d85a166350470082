import { describe, expect, it } from 'vitest';
import { formatDuration, parseBanDuration, parseDuration } from '../../src/policy/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500], ['90s', 90_000], ['5m', 300_000], ['24h', 86_400_000], ['7d', 604_800_000], ['2w', 1_209_600_000], [1500, 1500],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5 minutes', '5', '', ' 5m', '5m ', '-5m', '0s', '1.5h', '5M', 'permanent', '5mm', '9999999999d', 0, -1, 1.5, NaN, null, {}, []])(
    'rejects %j', (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it('gives null for permanent bans only where allowed', () => {
    expect(parseBanDuration('permanent')).toBeNull();
    expect(parseBanDuration('7d')).toBe(604_800_000);
    expect(parseBanDuration('forever')).toBeUndefined();
  });

  it('formats the shortest exact spelling', () => {
    expect(formatDuration(86_400_000)).toBe('1d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(null)).toBe('permanent');
    expect(parseDuration(formatDuration(3_600_000))).toBe(3_600_000);
  });
});
