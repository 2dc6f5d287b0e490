import fastifyMultipart from '@fastify/multipart';
import contentDisposition from 'content-disposition';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AttachmentContent, AttachmentPart } from '../../../domain/attachments/attachments.js';
import { AppError, validationFailed } from '../../../domain/errors.js';
import { attachmentSchema } from '../../../shared/wire.js';
import type { Services } from '../../services.js';
import { idParams, problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { fileResponse, linkQuery, uploadHeaders } from './attachments.schema.js';

/** Room for the multipart boundaries and part headers around one file. */
const ENVELOPE_BYTES = 64 * 1024;

export const attachmentsRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { maxBytes } = services.config.attachments;
    // Registered in this plugin only: every other route still takes JSON and nothing else.
    await app.register(fastifyMultipart, {
      limits: {
        // One byte over, so the domain sees the overflow and stops reading at once.
        fileSize: maxBytes + 1,
        files: 1,
        fields: 0,
        parts: 1,
        headerPairs: 20,
      },
    });
    const tags = ['attachments'];

    app.post(
      '/api/rooms/:id/attachments',
      {
        schema: {
          tags,
          summary:
            'Upload a photo (JPEG, PNG, WebP, GIF, HEIC) or a PDF to an open conversation, to send with a message; 409 room_closed once it has closed',
          consumes: ['multipart/form-data'],
          params: idParams,
          headers: uploadHeaders,
          response: { 201: attachmentSchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        // An honest client says how much it will send: refuse before reading any of it.
        const length = Number(request.headers['content-length'] ?? NaN);
        if (length > maxBytes + ENVELOPE_BYTES) {
          reply.header('connection', 'close');
          throw tooLarge(maxBytes);
        }
        const part = await request.file();
        if (!part || part.fieldname !== 'file') {
          // The parser also drops a part whose file name holds a line break.
          throw validationFailed('Send one file in a part named file', 'file');
        }
        try {
          const attachment = await services.attachments.upload(ctxOf(request), request.params.id, {
            name: part.filename,
            declaredType: part.mimetype,
            stream: part.file,
          });
          return await reply.code(201).send(attachment);
        } catch (err) {
          // The rest of an oversized body is not worth receiving: answer, then hang up.
          if (err instanceof AppError && err.code === 'file_too_large') {
            reply.header('connection', 'close');
          }
          throw err;
        }
      },
    );

    const links = services.attachmentLinks;
    const separate =
      ' With ATTACHMENT_ORIGIN set, the answer is a 302 to a one-time link on that origin (5 minutes, this user and file only).';
    // On the app's origin: the bytes themselves, or (with ATTACHMENT_ORIGIN) a way to them there.
    const serve =
      (part: AttachmentPart) =>
      async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
        const ctx = ctxOf(request);
        if (!links)
          return sendFile(reply, await services.attachments.read(ctx, request.params.id, part));
        return reply
          .header('referrer-policy', 'no-referrer')
          .redirect(await links.issue(ctx, request.params.id, part), 302);
      };

    app.get(
      '/api/attachments/:id',
      {
        schema: {
          tags,
          summary: 'An attachment, to the two participants of its conversation',
          description: `An upload not yet sent in a message is visible to its uploader only.${separate}`,
          params: idParams,
          response: { 200: fileResponse, ...problemResponses },
        },
      },
      serve('file'),
    );

    app.get(
      '/api/attachments/:id/thumbnail',
      {
        schema: {
          tags,
          summary: 'A small re-encoded preview of an image attachment (WebP)',
          description: separate.trim(),
          params: idParams,
          response: { 200: fileResponse, ...problemResponses },
        },
      },
      serve('thumbnail'),
    );

    const filesOrigin = services.config.attachments.origin;
    if (links && filesOrigin) {
      const origin = new URL(filesOrigin);
      // The same paths on the files origin, answered only there, opened by the link's token.
      const onFilesHost = (part: AttachmentPart) => ({
        constraints: { host: origin.host },
        config: { public: true, attachmentHost: true },
        schema: { hide: true, params: idParams, querystring: linkQuery },
        handler: async (
          request: FastifyRequest<{ Params: { id: string }; Querystring: { access: string } }>,
          reply: FastifyReply,
        ) => {
          const file = await links.open(request.query.access, request.params.id, part, request.ip);
          // The app (another origin, same site) may draw it and fetch it for the PDF preview.
          return sendFile(
            reply
              .header('access-control-allow-origin', services.config.publicOrigin)
              .header('vary', 'origin')
              .header('referrer-policy', 'no-referrer'),
            file,
            'same-site',
          );
        },
      });
      app.get('/api/attachments/:id', onFilesHost('file'));
      app.get('/api/attachments/:id/thumbnail', onFilesHost('thumbnail'));
    }
  };

const tooLarge = (max: number) =>
  new AppError('file_too_large', `The file is larger than ${Math.floor(max / (1024 * 1024))} MB.`);

/** For clients that ignore filename*: accents dropped, anything else outside ASCII replaced. */
const asciiFallback = (name: string) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_');

function sendFile(
  reply: FastifyReply,
  file: AttachmentContent,
  resourcePolicy: 'same-origin' | 'same-site' = 'same-origin',
): FastifyReply {
  return (
    reply
      // RFC 6266: an ASCII fallback and the exact name as filename*; quotes, CR and LF never pass.
      .header(
        'content-disposition',
        contentDisposition(file.name, {
          type: file.inline ? 'inline' : 'attachment',
          fallback: asciiFallback(file.name),
        }),
      )
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "sandbox; default-src 'none'")
      .header('cross-origin-resource-policy', resourcePolicy)
      .header('cache-control', 'private, no-store')
      .type(file.contentType)
      .send(file.bytes)
  );
}
