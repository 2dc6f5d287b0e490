import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

/** One e-mail as the SMTP server received it, with its parts decoded. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Map<string, string>;
  text: string;
  html: string;
}

type Answer = 250 | 451 | 550;

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 that keeps what it accepts.
 * `answers` is what it says to the next messages' end of data, one each (then 250):
 * 451 asks the client to try later, 550 refuses for good.
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = [];
  readonly answers: Answer[] = [];
  /** Messages refused (4xx/5xx) so far. */
  refused = 0;
  /** While set, the server takes the data and never answers it (a stuck server). */
  hold = false;
  /** Messages taken and never answered while `hold` was set. */
  held = 0;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<SmtpSink> {
    // The handler needs the sink, which needs the server's port: filled in below.
    const holder: { sink?: SmtpSink } = {};
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream: SMTPServerDataStream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const s = holder.sink!;
          if (s.hold) {
            s.held += 1;
            return;
          }
          const answer = s.answers.shift() ?? 250;
          if (answer !== 250) {
            s.refused += 1;
            const err = Object.assign(
              new Error(answer === 451 ? 'Try again later' : 'No such user here'),
              {
                responseCode: answer,
              },
            );
            return callback(err);
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          s.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            ...parseMail(raw),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.server.address();
    if (!address || typeof address === 'string') throw new Error('SMTP server has no port');
    holder.sink = new SmtpSink(server, address.port);
    return holder.sink;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function splitHead(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decode(body: string, encoding: string | undefined): string {
  const kind = encoding?.toLowerCase();
  if (kind === 'quoted-printable')
    return Buffer.from(
      body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      'latin1',
    ).toString('utf8');
  if (kind === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  return body;
}

/** Just enough MIME for a multipart/alternative notification: its text and HTML parts. */
function parseMail(raw: string): Omit<ReceivedMail, 'from' | 'to'> {
  const { headers, body } = splitHead(raw);
  const parts = { text: '', html: '' };
  const boundary = /boundary="?([^";]+)"?/.exec(headers.get('content-type') ?? '')?.[1];
  const pieces = boundary ? body.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const piece of pieces) {
    const part = splitHead(piece.replace(/^\r\n/, ''));
    const type = part.headers.get('content-type') ?? '';
    const text = decode(part.body, part.headers.get('content-transfer-encoding'));
    if (type.startsWith('text/plain')) parts.text = text;
    if (type.startsWith('text/html')) parts.html = text;
  }
  return { raw, headers, ...parts };
}
