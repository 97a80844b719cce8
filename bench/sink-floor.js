// What the SMTP sink itself accepts: a client that does nothing but write, each message's whole
// transaction (MAIL, RCPT, DATA, the message, the dot) in one write, many in flight on each
// connection (RFC 2920 pipelining, taken further than a careful client would: it does not wait
// for DATA's 354). The message is built once and sent to N addresses; the ceiling any sender
// meets on this sink and machine.
// usage: node sink-floor.js SMTP_URL COUNT CONNECTIONS HTML_FILE TEXT_FILE (herald preview's output)
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import nodemailer from 'nodemailer';

const [url, count, connections] = [new URL(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const IN_FLIGHT = 32;
const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
const html = readFileSync(process.argv[5], 'utf8');
const text = readFileSync(process.argv[6], 'utf8');
const built = await builder.sendMail({ from: 'Bench <news@example.com>', to: 'reader@example.com', subject: 'A post', html, text });
const body = built.message.toString('latin1').replace(/\r\n\./g, '\r\n..');

let next = 0;
const one = () =>
  new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    let sent = 0;
    let accepted = 0;
    let ready = false;
    let ended = false;
    let replies = '';
    const fill = () => {
      if (ended) return;
      while (sent - accepted < IN_FLIGHT && next < count) {
        const i = next++;
        sent++;
        socket.write(`MAIL FROM:<news@example.com>\r\nRCPT TO:<reader${i}@example.com>\r\nDATA\r\n${body}\r\n.\r\n`, 'latin1');
      }
      if (sent === accepted && next >= count) {
        ended = true;
        socket.end('QUIT\r\n');
      }
    };
    socket.on('data', (chunk) => {
      replies += chunk.toString('latin1');
      const lines = replies.split('\r\n');
      replies = lines.pop();
      for (const line of lines) {
        if (!ready && line.startsWith('250 ')) {
          ready = true;
        } else if (line.startsWith('250 OK: queued')) accepted++;
        else if (/^[45]/.test(line)) return reject(new Error(`the sink said: ${line}`));
      }
      if (ready) fill();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(accepted));
    socket.write('EHLO floor\r\n');
  });
const accepted = (await Promise.all(Array.from({ length: connections }, one))).reduce((sum, n) => sum + n, 0);
if (accepted !== count) {
  console.error(`the sink accepted ${accepted} of ${count} messages`);
  process.exit(1);
}
