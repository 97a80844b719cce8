// A local SMTP sink for the benchmark: accepts everything on loopback, counts messages, keeps none.
// Prints its port on stdout, then "count N" whenever asked with a line on stdin.
// It speaks just enough SMTP for nodemailer (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and never
// parses a message: it only looks for the end of DATA. smtp-server, which parses every line and
// unstuffs every dot, took 0.27 ms of CPU a message, a quarter of a 2-core machine at 1,000 msg/s,
// taken from the sender it is meant to measure; this takes a fraction of that. It announces
// PIPELINING, as every mail server a newsletter sends to does (Postfix, Exim, SES, Gmail): a client
// may then send MAIL, RCPT and DATA in one write, and this answers each line in turn whatever the
// write it came in, the answers to one read in one write.
import { createServer } from 'node:net';

const END = Buffer.from('\r\n.\r\n');
let count = 0;

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let inData = false;
  // Command mode: the unfinished line. Data mode: the last bytes seen, as END may span two chunks.
  let pending = Buffer.alloc(0);
  const reply = (line) => socket.write(`${line}\r\n`);
  const command = (line) => {
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === 'EHLO') reply('250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8');
    else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') reply('250 OK');
    else if (verb === 'DATA') {
      reply('354 go ahead');
      inData = true;
      // The CRLF that ended the DATA line, so an empty message (".\r\n" at once) ends too.
      pending = Buffer.from('\r\n');
    } else if (verb === 'QUIT') {
      socket.end('221 bye\r\n');
    } else reply('502 not here');
  };
  socket.on('data', (chunk) => {
    // As Postfix and Exim do: they flush their replies once the client's pipelined input is used up.
    socket.cork();
    process.nextTick(() => socket.uncork());
    let buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (buffer.length) {
      if (inData) {
        const end = buffer.indexOf(END);
        if (end < 0) {
          pending = buffer.subarray(Math.max(0, buffer.length - (END.length - 1)));
          return;
        }
        count++;
        inData = false;
        reply('250 OK: queued');
        buffer = buffer.subarray(end + END.length);
        continue;
      }
      const newline = buffer.indexOf(10);
      if (newline < 0) break;
      command(buffer.toString('latin1', 0, newline).replace(/\r$/, ''));
      buffer = buffer.subarray(newline + 1);
    }
    pending = Buffer.from(buffer);
  });
  socket.on('error', () => {});
  reply('220 sink ESMTP');
});
server.on('error', (error) => {
  console.error(`smtp sink: ${error.message}`);
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('data', () => console.log(`count ${count}`));
