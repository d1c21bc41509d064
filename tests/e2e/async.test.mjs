// `stride serve --async-scheduling` (the next engine step planned while the current one runs)
// against the ordinary server, through the official OpenAI client: the same requests must read
// the same text, log-probs and finish reasons, streamed or not (the CPU backend is
// batch-invariant and sampling is seeded per request).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MODEL, Server } from './server.mjs';

let sync;
let async_;

before(async () => {
  [sync, async_] = await Promise.all([Server.start(), Server.start(['--async-scheduling'])]);
});

after(async () => {
  assert.equal(await sync.stop(), 0);
  assert.equal(await async_.stop(), 0);
});

// What a response says, without ids and timestamps.
function essence(r) {
  return r.choices.map((c) => ({ index: c.index, text: c.text, finish: c.finish_reason,
    logprobs: c.logprobs ?? null }));
}

async function both(params) {
  return Promise.all([sync, async_].map(async (s) => essence(
    await s.client().completions.create({ model: MODEL, ...params }))));
}

test('greedy, seeded, n = 2, penalties and log-probs read the same', async () => {
  const cases = [
    { prompt: 'The weather today', max_tokens: 24, temperature: 0, ignore_eos: true },
    { prompt: 'Once upon a time', max_tokens: 20, temperature: 0.9, top_p: 0.9, seed: 3,
      logprobs: 3, ignore_eos: true },
    { prompt: 'Count:', max_tokens: 16, temperature: 1.0, n: 2, seed: 11,
      frequency_penalty: 0.5, presence_penalty: 0.3, ignore_eos: true },
    { prompt: 'Hello', max_tokens: 12, temperature: 0, echo: true, logprobs: 1 },
  ];
  // All at once on each server, so steps batch several requests.
  const results = await Promise.all(cases.map((params) => both(params)));
  for (const [a, b] of results) assert.deepEqual(b, a);
});

test('a stop string ends both at the same place', async () => {
  const free = await sync.client().completions.create({ model: MODEL, prompt: 'Tell me',
    max_tokens: 20, temperature: 0, ignore_eos: true });
  const text = free.choices[0].text;
  assert.ok(text.length > 6);
  const stop = text.slice(3, 6);
  const [a, b] = await both({ prompt: 'Tell me', max_tokens: 20, temperature: 0,
    ignore_eos: true, stop: [stop] });
  assert.deepEqual(b, a);
  assert.equal(b[0].finish, 'stop');
});

test('a streamed chat reads the same', async () => {
  const params = { model: MODEL, messages: [{ role: 'user', content: 'Say something.' }],
    max_tokens: 16, temperature: 0.7, seed: 5, stream: true };
  const texts = await Promise.all([sync, async_].map(async (s) => {
    let text = '';
    for await (const chunk of await s.client().chat.completions.create(params)) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    return text;
  }));
  assert.equal(texts[1], texts[0]);
  assert.ok(texts[0].length > 0);
});
