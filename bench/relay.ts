/**
 * The raw relay baseline: a minimal `ws` server that forwards each frame to the sender's
 * peer. No authentication, no storage, no parsing — the floor any WebSocket chat server
 * on this machine stands on. Prints `relay listening <port>` when ready.
 *
 * Clients connect to ws://127.0.0.1:<port>/?id=<n>&peer=<m>.
 */
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

const sockets = new Map<string, WebSocket>();
const server = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(process.env.RELAY_PORT ?? 0),
  perMessageDeflate: false,
  clientTracking: false,
  maxPayload: 64 * 1024,
});

server.on('connection', (ws, req) => {
  const params = new URL(req.url ?? '/', 'http://relay').searchParams;
  const id = params.get('id') ?? '';
  const peer = params.get('peer') ?? '';
  sockets.set(id, ws);
  ws.on('message', (data: RawData, isBinary: boolean) => {
    sockets.get(peer)?.send(data, { binary: isBinary });
  });
  ws.on('close', () => {
    if (sockets.get(id) === ws) sockets.delete(id);
  });
  ws.on('error', () => undefined);
});

server.on('listening', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`relay listening ${port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The relay never outlives the harness that started it.
process.on('disconnect', stop);
