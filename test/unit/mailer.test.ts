import { describe, expect, it } from 'vitest';
import { PermanentFailure } from '../../src/domain/events/processor.js';
import { smtpFailure } from '../../src/server/mailer.js';

describe('what the admin sees of an SMTP failure', () => {
  it('a 5xx is permanent and names the status and command, not the server text', () => {
    const err = smtpFailure(
      Object.assign(new Error('550 5.1.1 <grace@example.com>: no such user'), {
        responseCode: 550,
        command: 'RCPT TO',
        response: '550 5.1.1 <grace@example.com>: no such user',
      }),
    );
    expect(err).toBeInstanceOf(PermanentFailure);
    expect(err.message).toContain('550 at RCPT');
    expect(err.message).not.toContain('grace@example.com');
  });

  it('a 4xx and an unreachable server are retried', () => {
    const deferred = smtpFailure(
      Object.assign(new Error('451'), { responseCode: 451, command: 'DATA' }),
    );
    expect(deferred).not.toBeInstanceOf(PermanentFailure);
    expect(deferred.message).toContain('451 at DATA');
    const down = smtpFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' }));
    expect(down).not.toBeInstanceOf(PermanentFailure);
    expect(down.message).toBe('could not hand the message to the SMTP server (ESOCKET)');
  });
});
