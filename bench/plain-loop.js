// The baseline herald is measured against: a plain nodemailer pooled loop sending one
// pre-rendered message to N addresses over the same number of connections.
// usage: node plain-loop.js SMTP_URL COUNT CONNECTIONS HTML_FILE TEXT_FILE (herald preview's output)
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';

const [url, count, connections] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const transport = nodemailer.createTransport({ pool: true, url, maxConnections: connections, maxMessages: Infinity });
const html = readFileSync(process.argv[5], 'utf8');
const text = readFileSync(process.argv[6], 'utf8');
let next = 0;
const worker = async () => {
  while (next < count) {
    const i = next++;
    await transport.sendMail({ from: 'Bench <news@example.com>', to: `reader${i}@example.com`, subject: 'A post', html, text });
  }
};
await Promise.all(Array.from({ length: connections * 4 }, worker));
transport.close();
