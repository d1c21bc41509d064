// The bad-input rows of the reliability matrix (tests/TESTING.md): each gets OpenAI's error
// shape with the right status, and afterwards /health is 200 and the free KV blocks are back to
// their baseline. Plus API keys, a full queue (429 + Retry-After) and an error after a stream
// started (an SSE error chunk, then [DONE]).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { MAX_MODEL_LEN, MODEL, Server, readSse, sleep } from './server.mjs';

const C = '/v1/completions';
const H = '/v1/chat/completions';
const user = [{ role: 'user', content: 'hi' }];
const VOCAB = 128256;

// [name, path, body (object or raw string/bytes), status, param]
const rows = [
  ['truncated JSON', C, '{"prompt": "hi", "max_tokens": 4', 400],
  ['empty body', C, '', 400],
  ['top-level []', C, '[]', 400],
  ['top-level 42', C, '42', 400],
  ['top-level null', H, 'null', 400],
  ['messages missing', H, { model: MODEL }, 400, 'messages'],
  ['messages null', H, { messages: null }, 400, 'messages'],
  ['messages a string', H, { messages: 'hi' }, 400, 'messages'],
  ['messages [{}]', H, { messages: [{}] }, 400, 'messages[0].role'],
  ['unknown role', H, { messages: [{ role: 'wizard', content: 'x' }] }, 400, 'messages[0].role'],
  ['content 123', H, { messages: [{ role: 'user', content: 123 }] }, 400, 'messages[0].content'],
  ['unknown model (completions)', C, { model: 'gpt-4', prompt: 'x' }, 404, null],
  ['unknown model (chat)', H, { model: 'gpt-4', messages: user }, 404, null],
  ['max_tokens 0', C, { prompt: 'x', max_tokens: 0 }, 400, 'max_tokens'],
  ['max_tokens -1', C, { prompt: 'x', max_tokens: -1 }, 400, 'max_tokens'],
  ['max_tokens 2^63', C, '{"prompt": "x", "max_tokens": 9223372036854775808}', 400, 'max_tokens'],
  ['prompt + max_tokens beyond the context', C, { prompt: 'x y z', max_tokens: MAX_MODEL_LEN }, 400, 'max_tokens'],
  ['chat prompt + max_tokens beyond the context', H, { messages: user, max_tokens: MAX_MODEL_LEN }, 400, 'max_tokens'],
  ['prompt of exactly max_model_len tokens', C, { prompt: Array(MAX_MODEL_LEN).fill(1000) }, 400, 'prompt'],
  ['prompt of exactly max_model_len tokens, max_tokens set', C,
    { prompt: Array(MAX_MODEL_LEN).fill(1000), max_tokens: 1 }, 400, 'prompt'],
  ['empty prompt', C, { prompt: '' }, 400, 'prompt'],
  ['empty token list', C, { prompt: [] }, 400, 'prompt'],
  ['token id < 0', C, { prompt: [1, -1] }, 400, 'prompt'],
  ['token id >= vocab', C, { prompt: [1, VOCAB] }, 400, 'prompt'],
  ['temperature -1', C, { prompt: 'x', temperature: -1 }, 400, 'temperature'],
  ['temperature 3', C, { prompt: 'x', temperature: 3 }, 400, 'temperature'],
  ['temperature NaN', C, '{"prompt": "x", "temperature": NaN}', 400],
  ['top_p 0', C, { prompt: 'x', top_p: 0 }, 400, 'top_p'],
  ['top_p 1.5', H, { messages: user, top_p: 1.5 }, 400, 'top_p'],
  ['top_k -5', C, { prompt: 'x', top_k: -5 }, 400, 'top_k'],
  ['min_p 2', C, { prompt: 'x', min_p: 2 }, 400, 'min_p'],
  ['n 0', C, { prompt: 'x', n: 0 }, 400, 'n'],
  ['n 10^6', H, { messages: user, n: 1000000 }, 400, 'n'],
  ['logprobs > 20', C, { prompt: 'x', logprobs: 21 }, 400, 'logprobs'],
  ['top_logprobs > 20', H, { messages: user, logprobs: true, top_logprobs: 21 }, 400, 'top_logprobs'],
  ['stop ""', C, { prompt: 'x', stop: '' }, 400, 'stop'],
  ['too many stops', C, { prompt: 'x', stop: Array.from({ length: 17 }, (_, i) => `s${i}`) }, 400, 'stop'],
  ['logit_bias bad key', C, { prompt: 'x', logit_bias: { abc: 1 } }, 400, 'logit_bias'],
  ['logit_bias key out of vocab', C, { prompt: 'x', logit_bias: { [VOCAB]: 1 } }, 400, 'logit_bias'],
  ['logit_bias bad value', C, { prompt: 'x', logit_bias: { 5: 1000 } }, 400, 'logit_bias'],
  ['logit_bias non-number value', H, { messages: user, logit_bias: { 5: 'x' } }, 400, 'logit_bias'],
  ['invalid UTF-8', C, Buffer.concat([Buffer.from('{"prompt": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 400],
  ['lone surrogate', C, '{"prompt": "a\\ud800b"}', 400],
  ['lone low surrogate (chat)', H, '{"messages": [{"role": "user", "content": "\\udc00"}]}', 400],
  ['JSON nested 10^5 deep', C, '{"prompt": ' + '['.repeat(100000) + ']'.repeat(100000) + '}', 400],
  ['stream_options without stream', C, { prompt: 'x', stream_options: { include_usage: true } }, 400, 'stream_options'],
  ['stream not a boolean', H, { messages: user, stream: 'yes' }, 400, 'stream'],
  ['best_of with n', C, { prompt: 'x', n: 1, best_of: 2, stream: true }, 400, 'best_of'],
  ['suffix', C, { prompt: 'x', suffix: 'y', stream: true }, 400, 'suffix'],
];

function assertErrorShape(body, status, param) {
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  if (status === 400 || status === 404 || status === 413 || status === 431) {
    assert.equal(body.error.type, 'invalid_request_error');
  }
  if (param !== undefined) assert.equal(body.error.param, param);
}

describe('bad input', () => {
  let server;
  let baseline;
  before(async () => {
    server = await Server.start(['--max-body-bytes', String(1 << 20)]);
    baseline = await server.metric('stride:kv_free_blocks');
  });
  after(async () => { assert.equal(await server.stop(), 0); });

  async function healthyAndBaseline() {
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    await server.waitKvBaseline(baseline);
  }

  for (const [name, path, body, status, param] of rows) {
    test(`${name} -> ${status}`, async () => {
      const response = await server.post(path, body);
      assert.equal(response.status, status);
      assertErrorShape(await response.json(), status, param);
      await healthyAndBaseline();
    });
  }

  test('body over the limit -> 413', async () => {
    const response = await server.post(C, JSON.stringify({ prompt: 'a'.repeat(2 << 20) }));
    assert.equal(response.status, 413);
    assertErrorShape(await response.json(), 413);
    await healthyAndBaseline();
  });

  test('headers over the limit -> 431', async () => {
    const url = new URL(server.url);
    const status = await new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: C, method: 'POST',
        headers: { 'content-type': 'application/json', 'x-padding': 'a'.repeat(64 << 10) } },
      (res) => { res.resume(); resolve(res.statusCode); });
      req.on('error', reject);
      req.end('{"prompt": "x"}');
    });
    assert.equal(status, 431);
    await healthyAndBaseline();
  });

  test('unknown paths and methods', async () => {
    assert.equal((await fetch(`${server.url}/v1/nothing`)).status, 404);
    assert.equal((await fetch(`${server.url}${C}`)).status, 405);
    await healthyAndBaseline();
  });

  test('the official client surfaces the errors as APIError with the status', async () => {
    const client = server.client();
    await assert.rejects(client.completions.create({ model: MODEL, prompt: 'x', temperature: 3 }),
      (e) => e.status === 400 && e.param === 'temperature');
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: user }),
      (e) => e.status === 404);
    await healthyAndBaseline();
  });
});

describe('API key', () => {
  let server;
  before(async () => { server = await Server.start([], { env: { STRIDE_API_KEY: 'sekret-key' } }); });
  after(async () => { assert.equal(await server.stop(), 0); });

  test('missing or wrong key -> 401; /health and /metrics stay open', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'sekret-key' }]) {
      const r = await server.post(C, { prompt: 'x', max_tokens: 1 }, headers);
      assert.equal(r.status, 401);
      assertErrorShape(await r.json(), 401);
    }
    assert.equal((await fetch(`${server.url}/v1/models`)).status, 401);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 200);
    const ok = await server.post(C, { prompt: 'x', max_tokens: 1 }, { authorization: 'Bearer sekret-key' });
    assert.equal(ok.status, 200);
    const client = server.client({ apiKey: 'sekret-key' });
    assert.equal((await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2 })).choices.length, 1);
    await assert.rejects(server.client({ apiKey: 'bad' }).models.list(), (e) => e.status === 401);
  });
});

describe('limits of a small engine', () => {
  let server;
  let baseline;
  before(async () => {
    // One running sequence, a queue of one, and a KV pool of 8 blocks (128 tokens).
    server = await Server.start(['--max-num-seqs', '1', '--max-queue', '1', '--num-kv-blocks', '8']);
    baseline = await server.metric('stride:kv_free_blocks');
  });
  after(async () => { assert.equal(await server.stop(), 0); });

  test('a full queue answers 429 with Retry-After, and recovers', async () => {
    const long = { model: MODEL, prompt: 'x', max_tokens: 100, ignore_eos: true, stream: true };
    const controllers = [new AbortController(), new AbortController()];
    const first = await fetch(`${server.url}${C}`, { method: 'POST', body: JSON.stringify(long),
      signal: controllers[0].signal });
    assert.equal(first.status, 200);
    const second = fetch(`${server.url}${C}`, { method: 'POST', body: JSON.stringify(long),
      signal: controllers[1].signal });
    let waiting = 0;
    for (let i = 0; i < 200 && waiting < 1; ++i) {
      waiting = await server.metric('stride:num_requests_waiting');
      if (waiting < 1) await sleep(5);
    }
    assert.equal(waiting, 1, 'the second request waits behind the first');
    const rejected = await server.post(C, { prompt: 'x', max_tokens: 1 });
    assert.equal(rejected.status, 429);
    assert.equal(rejected.headers.get('retry-after'), '1');
    const body = await rejected.json();
    assert.equal(body.error.code, 'rate_limit_exceeded');
    for (const c of controllers) c.abort();
    await second.catch(() => {});
    await server.waitKvBaseline(baseline);
    const ok = await server.post(C, { prompt: 'x', max_tokens: 2 });
    assert.equal(ok.status, 200);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  test('an error after the stream started is an SSE error chunk, then [DONE]', async () => {
    // 150 prompt tokens fit max_model_len (256) but never fit the 8-block pool.
    const r = await server.post(C, { prompt: Array(150).fill(1000), max_tokens: 4, stream: true });
    assert.equal(r.status, 200);
    const events = await readSse(r);
    assert.equal(events.at(-1), '[DONE]');
    const error = JSON.parse(events.at(-2));
    assertErrorShape(error, 400);
    const chat = await server.post(H, { messages: [{ role: 'user', content: 'word '.repeat(150) }],
      max_tokens: 4, stream: true });
    const chatEvents = await readSse(chat);
    assert.equal(chatEvents.at(-1), '[DONE]');
    assert.ok(JSON.parse(chatEvents.at(-2)).error);
    const plain = await server.post(C, { prompt: Array(150).fill(1000), max_tokens: 4 });
    assert.equal(plain.status, 400);
    await server.waitKvBaseline(baseline);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });
});
