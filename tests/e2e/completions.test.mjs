// /v1/completions through the official OpenAI client: shapes, streaming, n, echo + logprobs,
// stop strings across token boundaries, seeds, batched prompts, usage.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MODEL, Server, readSse } from './server.mjs';

let server;
let client;
let baseline;

before(async () => {
  server = await Server.start();
  client = server.client();
  baseline = await server.metric('stride:kv_free_blocks');
  assert.ok(baseline > 0);
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

async function streamText(params) {
  const stream = await client.completions.create({ ...params, stream: true });
  const texts = {};
  const finish = {};
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      texts[c.index] = (texts[c.index] ?? '') + c.text;
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  return { texts, finish };
}

test('a completion has OpenAI\'s shape and usage', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: 'Hello, my name is',
    max_tokens: 8, temperature: 0, ignore_eos: true });
  assert.equal(r.object, 'text_completion');
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.model, MODEL);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].index, 0);
  assert.equal(typeof r.choices[0].text, 'string');
  assert.ok(r.choices[0].text.length > 0);
  assert.equal(r.choices[0].finish_reason, 'length');
  const tokenized = await (await server.post('/tokenize', { prompt: 'Hello, my name is' })).json();
  assert.equal(r.usage.prompt_tokens, tokenized.count);
  assert.equal(r.usage.completion_tokens, 8);
  assert.equal(r.usage.total_tokens, tokenized.count + 8);
  await server.waitKvBaseline(baseline);
});

test('default max_tokens is 16', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: 'Count:', temperature: 0,
    ignore_eos: true });
  assert.equal(r.usage.completion_tokens, 16);
});

test('greedy is deterministic; same seed gives the same text; streamed equals non-streamed', async () => {
  const greedy = { model: MODEL, prompt: 'The weather today', max_tokens: 12, temperature: 0,
    ignore_eos: true };
  const a = await client.completions.create(greedy);
  const b = await client.completions.create(greedy);
  assert.equal(a.choices[0].text, b.choices[0].text);
  const streamed = await streamText(greedy);
  assert.equal(streamed.texts[0], a.choices[0].text);
  assert.equal(streamed.finish[0], 'length');

  const seeded = { model: MODEL, prompt: 'Once upon a time', max_tokens: 12, temperature: 1.0,
    seed: 1234, ignore_eos: true };
  const s1 = await client.completions.create(seeded);
  const s2 = await client.completions.create(seeded);
  assert.equal(s1.choices[0].text, s2.choices[0].text);
  assert.equal((await streamText(seeded)).texts[0], s1.choices[0].text);
  const other = await client.completions.create({ ...seeded, seed: 99 });
  assert.notEqual(other.choices[0].text, s1.choices[0].text);
});

test('n > 1 and batched prompts number choices prompt-major', async () => {
  const params = { model: MODEL, max_tokens: 6, temperature: 1.0, seed: 5, ignore_eos: true };
  const r = await client.completions.create({ ...params, prompt: ['first prompt', 'second one'], n: 2 });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2, 3]);
  const n2 = new Set([r.choices[0].text, r.choices[1].text]);
  assert.equal(n2.size, 2, 'the n sequences of one prompt differ');
  // The second prompt's choices equal a request for it alone (seeds are per request).
  const alone = await client.completions.create({ ...params, prompt: 'second one', n: 2 });
  assert.equal(r.choices[2].text, alone.choices[0].text);
  assert.equal(r.choices[3].text, alone.choices[1].text);
  assert.equal(r.usage.completion_tokens, 4 * 6);
  const streamed = await streamText({ ...params, prompt: ['first prompt', 'second one'], n: 2 });
  assert.deepEqual([0, 1, 2, 3].map((i) => streamed.texts[i]), r.choices.map((c) => c.text));
  await server.waitKvBaseline(baseline);
});

test('token-id prompts are accepted and equal their text form', async () => {
  const tokens = (await (await server.post('/tokenize', { prompt: 'Paris is' })).json()).tokens;
  const params = { model: MODEL, max_tokens: 5, temperature: 0, ignore_eos: true };
  const byText = await client.completions.create({ ...params, prompt: 'Paris is' });
  const byIds = await client.completions.create({ ...params, prompt: tokens });
  assert.equal(byIds.choices[0].text, byText.choices[0].text);
  const detok = await (await server.post('/detokenize', { tokens })).json();
  assert.equal(detok.prompt, 'Paris is');
});

test('echo + logprobs prepend the prompt and its log-probs', async () => {
  const prompt = 'The quick brown fox';
  const count = (await (await server.post('/tokenize', { prompt })).json()).count;
  const r = await client.completions.create({ model: MODEL, prompt, max_tokens: 4,
    temperature: 0, echo: true, logprobs: 3, ignore_eos: true });
  const c = r.choices[0];
  assert.ok(c.text.startsWith(prompt));
  const lp = c.logprobs;
  assert.equal(lp.tokens.length, count + 4);
  assert.equal(lp.token_logprobs[0], null);
  assert.equal(lp.top_logprobs[0], null);
  assert.equal(lp.tokens.slice(0, count).join(''), prompt);
  for (let i = 1; i < lp.tokens.length; ++i) {
    assert.ok(lp.token_logprobs[i] <= 0, 'log-probs are <= 0');
    const top = lp.top_logprobs[i];
    assert.ok(Object.keys(top).length >= 3 && Object.keys(top).length <= 4);
    assert.equal(top[lp.tokens[i]], lp.token_logprobs[i]);
  }
  // Greedy: each generated token is the most likely one.
  for (let i = count; i < lp.tokens.length; ++i) {
    assert.equal(Math.max(...Object.values(lp.top_logprobs[i])), lp.token_logprobs[i]);
  }
  for (let i = 1; i < lp.text_offset.length; ++i) {
    assert.equal(lp.text_offset[i] - lp.text_offset[i - 1], [...lp.tokens[i - 1]].length);
  }
  const noEcho = await client.completions.create({ model: MODEL, prompt, max_tokens: 4,
    temperature: 0, logprobs: 0, ignore_eos: true });
  assert.equal(c.text, prompt + noEcho.choices[0].text);
  assert.equal(noEcho.choices[0].logprobs.tokens.length, 4);
  assert.equal(noEcho.choices[0].logprobs.text_offset[0], 0);
});

test('a stop string spanning tokens ends the text before it, streamed or not', async () => {
  const base = { model: MODEL, prompt: 'List of words:', max_tokens: 24, temperature: 0,
    ignore_eos: true, logprobs: 0 };
  const full = await client.completions.create(base);
  const tokens = full.choices[0].logprobs.tokens;
  // A stop string made of the end of one token and the start of the next.
  let stop;
  let prefixLen = 0;
  for (let i = 2; i + 1 < tokens.length && !stop; ++i) {
    const a = [...tokens[i]];
    const b = [...tokens[i + 1]];
    const candidate = a.slice(-2).join('') + b.slice(0, 2).join('');
    const before = tokens.slice(0, i).join('') + a.slice(0, -2).join('');
    if (a.length >= 2 && b.length >= 2 && !before.includes(candidate) && !candidate.includes('\ufffd')) {
      stop = candidate;
      prefixLen = before.length;
    }
  }
  assert.ok(stop, `no usable token pair in ${JSON.stringify(tokens)}`);
  const text = full.choices[0].text;
  const expected = text.slice(0, text.indexOf(stop));
  assert.equal(expected.length, prefixLen);
  const params = { ...base, stop: [stop, 'zzzz-never'], logprobs: undefined };
  const r = await client.completions.create(params);
  assert.equal(r.choices[0].text, expected);
  assert.equal(r.choices[0].finish_reason, 'stop');
  const streamed = await streamText(params);
  assert.equal(streamed.texts[0], expected);
  assert.equal(streamed.finish[0], 'stop');
  // include_stop_str_in_output keeps it.
  const kept = await client.completions.create({ ...params, include_stop_str_in_output: true });
  assert.equal(kept.choices[0].text, expected + stop);
  await server.waitKvBaseline(baseline);
});

test('stream_options.include_usage adds a final usage chunk; the stream ends with [DONE]', async () => {
  const response = await server.post('/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 3,
    temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /text\/event-stream/);
  const events = await readSse(response);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage.completion_tokens, 3);
  for (const c of chunks.slice(0, -1)) {
    assert.equal(c.usage, null);
    assert.equal(c.object, 'text_completion');
  }
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
});

test('min_tokens, stop_token_ids and max_tokens clamp', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 5,
    temperature: 0, min_tokens: 5 });
  assert.equal(r.usage.completion_tokens, 5);
  // Unset max_tokens is clamped to the context left.
  const ids = Array.from({ length: 250 }, (_, i) => 1000 + i);
  const clamped = await client.completions.create({ model: MODEL, prompt: ids, temperature: 0,
    ignore_eos: true });
  assert.equal(clamped.usage.completion_tokens, 6);
  assert.equal(clamped.choices[0].finish_reason, 'length');
});

test('/v1/models, /version, /tokenize', async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [MODEL]);
  const version = await (await fetch(`${server.url}/version`)).json();
  assert.equal(typeof version.version, 'string');
  const t = await (await server.post('/tokenize', { prompt: 'hello world', add_special_tokens: false })).json();
  assert.equal(t.count, t.tokens.length);
  assert.equal(t.max_model_len, 256);
  const d = await (await server.post('/detokenize', { tokens: t.tokens })).json();
  assert.equal(d.prompt, 'hello world');
});
