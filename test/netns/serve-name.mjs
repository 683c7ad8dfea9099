// A tiny HTTP server that answers every request with its host name: node serve-name.mjs NAME [PORT]
import { createServer } from 'node:http';

const [name = 'unnamed', port = '8080'] = process.argv.slice(2);
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(name);
});
server.listen(Number(port), '0.0.0.0', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', name, port: Number(port) })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
