import fastifyMultipart from '@fastify/multipart';
import contentDisposition from 'content-disposition';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AttachmentContent } from '../../../domain/attachments/attachments.js';
import { AppError, validationFailed } from '../../../domain/errors.js';
import { attachmentSchema } from '../../../shared/wire.js';
import type { Services } from '../../services.js';
import { idParams, problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { fileResponse, uploadHeaders } from './attachments.schema.js';

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

    app.get(
      '/api/attachments/:id',
      {
        schema: {
          tags,
          summary: 'An attachment, to the two participants of its conversation',
          params: idParams,
          response: { 200: fileResponse, ...problemResponses },
        },
      },
      async (request, reply) =>
        sendFile(reply, await services.attachments.read(ctxOf(request), request.params.id, 'file')),
    );

    app.get(
      '/api/attachments/:id/thumbnail',
      {
        schema: {
          tags,
          summary: 'A small re-encoded preview of an image attachment (WebP)',
          params: idParams,
          response: { 200: fileResponse, ...problemResponses },
        },
      },
      async (request, reply) =>
        sendFile(
          reply,
          await services.attachments.read(ctxOf(request), request.params.id, 'thumbnail'),
        ),
    );
  };

const tooLarge = (max: number) =>
  new AppError('file_too_large', `The file is larger than ${Math.floor(max / (1024 * 1024))} MB.`);

/** For clients that ignore filename*: accents dropped, anything else outside ASCII replaced. */
const asciiFallback = (name: string) =>
  name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_');

function sendFile(reply: FastifyReply, file: AttachmentContent): FastifyReply {
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
      .header('cross-origin-resource-policy', 'same-origin')
      .header('cache-control', 'private, no-store')
      .type(file.contentType)
      .send(file.bytes)
  );
}
