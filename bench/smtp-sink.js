// A local SMTP sink for the benchmark: accepts everything on loopback, counts messages, keeps none.
// Prints its port on stdout, then "count N" whenever asked with a line on stdin.
import { SMTPServer } from 'smtp-server';

let count = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      count++;
      callback();
    });
  },
});
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => console.log(server.server.address().port));
process.stdin.on('data', () => console.log(`count ${count}`));
