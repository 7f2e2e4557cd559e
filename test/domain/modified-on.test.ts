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

  test('the watermark compares instants: a cap in another format never raises it past the largest value scanned', () => {
    // As strings "05Z" sorts after "05.200Z", which made the job's start the new watermark.
    expect(nextWatermark(null, '2026-11-25T10:00:05Z', '2026-11-25T10:00:05.200Z')).toBe('2026-11-25T10:00:05Z');
    expect(nextWatermark(null, '2026-11-25T10:00:06Z', '2026-11-25T10:00:05.200Z')).toBe('2026-11-25T10:00:05.200Z');
    expect(nextWatermark('2026-11-25T10:00:05.500Z', '2026-11-25T10:00:05Z', '2026-11-25T10:00:09Z')).toBe('2026-11-25T10:00:05.500Z');
    // Seven fraction digits (SQL Server) are compared exactly, not rounded to milliseconds.
    expect(nextWatermark(null, '2026-11-25T10:00:05.1234567Z', '2026-11-25T10:00:05.1234568Z')).toBe('2026-11-25T10:00:05.1234567Z');
    expect(nextWatermark(null, '2026-11-25T10:00:05.1234569Z', '2026-11-25T10:00:05.1234568Z')).toBe('2026-11-25T10:00:05.1234568Z');
  });
});
