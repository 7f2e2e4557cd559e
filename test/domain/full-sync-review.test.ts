/** Full Synch. Review's rule: couple first when both tables hold records and few are coupled. */
import { COUPLED_SHARE_REQUIRED, needsCoupling, populatedMessage, recordsToCount } from '../../domain/full-sync-review';

test('both sides with records and none coupled: couple first', () => {
  expect(needsCoupling({ localRecords: 1, integrationRecords: 1, couplings: 0 })).toBe(true);
});

test('an empty side needs no coupling: there is nothing to duplicate', () => {
  expect(needsCoupling({ localRecords: 0, integrationRecords: 100, couplings: 0 })).toBe(false);
  expect(needsCoupling({ localRecords: 100, integrationRecords: 0, couplings: 0 })).toBe(false);
  expect(needsCoupling({ localRecords: 0, integrationRecords: 0, couplings: 0 })).toBe(false);
});

test('half of the smaller side coupled is enough', () => {
  expect(COUPLED_SHARE_REQUIRED).toBe(0.5);
  expect(needsCoupling({ localRecords: 10, integrationRecords: 1000, couplings: 5 })).toBe(false);
  expect(needsCoupling({ localRecords: 10, integrationRecords: 1000, couplings: 4 })).toBe(true);
  expect(needsCoupling({ localRecords: 1000, integrationRecords: 11, couplings: 5 })).toBe(true);
});

test('counting each side up to recordsToCount(couplings) decides as counting everything would', () => {
  for (let couplings = 0; couplings < 30; couplings++) {
    const limit = recordsToCount(couplings);
    for (let local = 0; local < 70; local += 3) {
      for (let integration = 0; integration < 70; integration += 4) {
        const full = needsCoupling({ localRecords: local, integrationRecords: integration, couplings });
        const capped = needsCoupling({ localRecords: Math.min(local, limit), integrationRecords: Math.min(integration, limit), couplings });
        expect([couplings, local, integration, capped]).toEqual([couplings, local, integration, full]);
      }
    }
  }
  expect(recordsToCount(0)).toBe(1);
});

test('the stop message says what was counted and what to do', () => {
  expect(populatedMessage('CUSTOMER', { localRecords: 1, integrationRecords: 1, couplings: 0 })).toBe(
    'Mapping CUSTOMER: both tables already hold records (local at least 1, integration at least 1) and only 0 are coupled, ' +
      'so syncing would create duplicates of records that have a counterpart already; run match-based coupling first, ' +
      'or start the full synchronization with onPopulated "couple".',
  );
});
