import { describe, expect, it } from 'vitest';
import {
  can,
  PRACTICE,
  require,
  type Permission,
  type RoomSubject,
  type Subject,
} from '../../src/domain/access/policy.js';
import type { Actor } from '../../src/domain/context.js';
import { AppError } from '../../src/domain/errors.js';

const patient: Actor = { id: 'pat-1', role: 'patient', name: 'Pat' };
const otherPatient: Actor = { id: 'pat-2', role: 'patient', name: 'Other' };
const practitioner: Actor = { id: 'doc-1', role: 'practitioner', name: 'Doc' };
const admin: Actor = { id: 'adm-1', role: 'admin', name: 'Admin' };

const room = (status: RoomSubject['status'] = 'open'): RoomSubject => ({
  kind: 'room',
  patientId: patient.id,
  practitionerId: practitioner.id,
  status,
});
const appointment = {
  kind: 'appointment',
  patientId: patient.id,
  practitionerId: practitioner.id,
} as const;

function refusalOf(fn: () => void): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('the access policy', () => {
  it('lets only the two participants read a room, not another patient and not an admin', () => {
    expect(can(patient, 'room.read', room())).toBe(true);
    expect(can(practitioner, 'room.read', room())).toBe(true);
    expect(can(otherPatient, 'room.read', room())).toBe(false);
    expect(can(admin, 'room.read', room())).toBe(false);
  });

  it('refuses writing to a closed room to both participants, who may still read it', () => {
    for (const who of [patient, practitioner]) {
      expect(can(who, 'room.write', room('open'))).toBe(true);
      expect(can(who, 'room.write', room('closed'))).toBe(false);
      expect(can(who, 'room.read', room('closed'))).toBe(true);
    }
  });

  it('lets only the practitioner reopen a closed room', () => {
    expect(can(practitioner, 'room.reopen', room('closed'))).toBe(true);
    expect(can(practitioner, 'room.reopen', room('open'))).toBe(false);
    expect(can(patient, 'room.reopen', room('closed'))).toBe(false);
    expect(can(admin, 'room.reopen', room('closed'))).toBe(false);
  });

  it('gives appointment decisions to its practitioner and cancelling to either side or an admin', () => {
    expect(can(practitioner, 'appointment.decide', appointment)).toBe(true);
    expect(can(patient, 'appointment.decide', appointment)).toBe(false);
    for (const who of [patient, practitioner, admin])
      expect(can(who, 'appointment.cancel', appointment)).toBe(true);
    expect(can(otherPatient, 'appointment.cancel', appointment)).toBe(false);
  });

  it('keeps the practice-wide permissions to their roles', () => {
    expect(can(admin, 'users.manage', PRACTICE)).toBe(true);
    expect(can(admin, 'audit.read', PRACTICE)).toBe(true);
    for (const who of [patient, practitioner]) {
      expect(can(who, 'users.manage', PRACTICE)).toBe(false);
      expect(can(who, 'audit.read', PRACTICE)).toBe(false);
    }
    expect(can(patient, 'appointment.request', PRACTICE)).toBe(true);
    expect(can(practitioner, 'appointment.request', PRACTICE)).toBe(false);
  });

  describe('denies by default', () => {
    const everyone = [patient, otherPatient, practitioner, admin];

    it('refuses a permission that has no rule, even to an admin', () => {
      for (const who of everyone) {
        expect(can(who, 'room.delete' as Permission, room())).toBe(false);
        expect(can(who, 'users.impersonate' as Permission, PRACTICE)).toBe(false);
        expect(refusalOf(() => require(who, 'room.delete' as Permission, room())).code).toBe(
          'not_found',
        );
      }
    });

    it('refuses a resource kind that has no rules at all', () => {
      const attachment = { kind: 'attachment', roomId: 'r1' } as unknown as Subject;
      for (const who of everyone) {
        expect(can(who, 'room.read', attachment)).toBe(false);
        expect(can(who, 'attachment.read' as Permission, attachment)).toBe(false);
        expect(refusalOf(() => require(who, 'room.read', attachment)).code).toBe('not_found');
      }
    });

    it("refuses a permission asked of another kind's subject", () => {
      // room.read is a room rule; on an appointment it means nothing and grants nothing.
      expect(can(patient, 'room.read', appointment)).toBe(false);
      expect(can(admin, 'users.manage', room())).toBe(false);
    });

    it('does not treat inherited object properties as rules', () => {
      expect(can(admin, 'toString' as Permission, PRACTICE)).toBe(false);
      expect(can(admin, 'constructor' as Permission, room())).toBe(false);
    });
  });

  describe('require', () => {
    it('answers not_found to someone who cannot see the record, exactly like a missing one', () => {
      const e = refusalOf(() => require(otherPatient, 'appointment.decide', appointment));
      expect(e.code).toBe('not_found');
      expect(refusalOf(() => require(admin, 'room.read', room())).code).toBe('not_found');
      expect(refusalOf(() => require(patient, 'audit.read', PRACTICE)).code).toBe('not_found');
    });

    it('answers forbidden, with a reason, to a party who sees the record but may not act', () => {
      const e = refusalOf(() => require(patient, 'appointment.decide', appointment));
      expect(e.code).toBe('forbidden');
      expect(e.title).toMatch(/practitioner/);
      expect(refusalOf(() => require(patient, 'room.reopen', room('closed'))).code).toBe(
        'forbidden',
      );
    });

    it('passes silently when allowed', () => {
      expect(() => require(practitioner, 'room.reopen', room('closed'))).not.toThrow();
    });
  });
});
