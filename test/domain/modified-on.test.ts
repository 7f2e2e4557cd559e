import { compareModifiedOn, isLater, nextWatermark } from '../../domain/modified-on';

describe('modified-on', () => {
  test('timestamps compare exactly, with no millisecond rounding', () => {
    expect(compareModifiedOn('2026-11-25T10:00:00.1234567Z', '2026-11-25T10:00:00.1234568Z')).toBe(-1);
    expect(isLater('2026-11-25T10:00:00.014Z', '2026-11-25T10:00:00.000Z')).toBe(true);
    expect(isLater('2026-11-25T10:00:00.000Z', '2026-11-25T10:00:00.000Z')).toBe(false);
    expect(isLater('2026-11-25T10:00:00.000Z', null)).toBe(true);
  });

  test('row versions compare as integers, however long', () => {
    expect(compareModifiedOn('9', '10')).toBe(-1);
    expect(compareModifiedOn('123456789012345678901234567890', '123456789012345678901234567889')).toBe(1);
  });

  test('the watermark is the largest scanned, capped at the job start, never moving back', () => {
    const start = '2026-11-25T10:00:00.000Z';
    expect(nextWatermark(null, '2026-11-25T09:00:00.000Z', start)).toBe('2026-11-25T09:00:00.000Z');
    expect(nextWatermark(null, '2026-11-25T11:00:00.000Z', start)).toBe(start);
    expect(nextWatermark('2026-11-25T09:30:00.000Z', '2026-11-25T09:00:00.000Z', start)).toBe('2026-11-25T09:30:00.000Z');
    expect(nextWatermark('2026-11-25T09:30:00.000Z', null, start)).toBe('2026-11-25T09:30:00.000Z');
    expect(nextWatermark('17', '42', start)).toBe('42');
  });
});
