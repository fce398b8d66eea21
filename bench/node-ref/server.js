// server.js — the reference Discord interactions endpoint for bench/perf.sh: what a Node bot
// written from Discord's own examples does, express + the official discord-interactions package.
// verifyKeyMiddleware checks the Ed25519 signature and answers PING itself ({"type":1}); a
// command gets the answer Slimy gives to the same command: `/snail ...` an immediate ephemeral
// message (type 4), anything else a deferred ephemeral acknowledgement (type 5). It does no
// work behind the acknowledgement: this measures the endpoint, not a bot.
//   node server.js PORT PUBLIC_KEY_HEX        listens on 127.0.0.1:PORT; GET /health answers 200
'use strict';

const express = require('express');
const {
  InteractionType,
  InteractionResponseType,
  InteractionResponseFlags,
  verifyKeyMiddleware,
} = require('discord-interactions');

const port = Number(process.argv[2]);
const publicKey = process.argv[3];
if (!port || !publicKey) {
  console.error('usage: node server.js PORT PUBLIC_KEY_HEX');
  process.exit(2);
}

// About the size of Slimy's /snail calc answer.
const CALC_TEXT = 'Form upgrade to T7: ' + 'cells 1,234,567 · BTAD 89,012 · time 3d 04h 05m. '.repeat(12);

const app = express();
app.disable('x-powered-by');
app.post('/interactions', verifyKeyMiddleware(publicKey), (req, res) => {
  const interaction = req.body;
  if (interaction.type !== InteractionType.APPLICATION_COMMAND) {
    return res.status(400).send({ error: 'unsupported interaction type' });
  }
  if (interaction.data && interaction.data.name === 'snail') {
    return res.send({
      type: InteractionResponseType.CHANNEL_MESSAGE_WITH_SOURCE,
      data: { content: CALC_TEXT, flags: InteractionResponseFlags.EPHEMERAL },
    });
  }
  return res.send({
    type: InteractionResponseType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    data: { flags: InteractionResponseFlags.EPHEMERAL },
  });
});
app.get('/health', (req, res) => res.send({ status: 'ok' }));

const server = app.listen(port, '127.0.0.1', () => console.log(`ready ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
