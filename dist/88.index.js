export const id = 88;
export const ids = [88];
export const modules = {

/***/ 52088:
/***/ ((__unused_webpack_module, __unused_webpack___webpack_exports__, __webpack_require__) => {


// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 7 modules
var core = __webpack_require__(33838);
// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
;// CONCATENATED MODULE: ./src/state.ts
// What main hands to the post step, which runs in a new process: one named setter and getter
// per fact, each saved the moment it is known so that a killed main still leaves what post needs.

/** The keys, as the runner stores them (`STATE_<key>` in post's environment). */
var Key;
(function (Key) {
    Key["IsPost"] = "isPost";
    Key["Cluster"] = "cluster";
    Key["MinikubePath"] = "minikubePath";
    Key["HelmPath"] = "helmPath";
    Key["KubectlPath"] = "kubectlPath";
    Key["ClusterStarted"] = "clusterStarted";
    Key["Release"] = "release";
    Key["Namespace"] = "namespace";
    Key["Deployed"] = "deployed";
    Key["Cleanup"] = "cleanup";
    Key["Status"] = "status";
    Key["CacheKey"] = "cacheKey";
    Key["CacheHit"] = "cacheHit";
    /** Newline-separated folders of the minikube cache. */
    Key["CachePath"] = "cachePath";
    Key["DockerPath"] = "dockerPath";
    /** A buildx builder this run created, removed in post. */
    Key["Builder"] = "builder";
    /** A docker context created for that builder (the cluster's Docker, with docker-env). */
    Key["DockerContext"] = "dockerContext";
    /** The folder of the secret values file, saved before the file is written. */
    Key["SecretsDir"] = "secretsDir";
    /** The run's own helm repository config (it may hold a copied password), saved likewise. */
    Key["RepositoriesDir"] = "repositoriesDir";
    /** The registry host docker logged in to, logged out of in post. */
    Key["RegistryHost"] = "registryHost";
})(Key || (Key = {}));
function save(key, value) {
    if (value !== undefined)
        core/* saveState */.LZ(key, String(value));
}
function load(key) {
    return core/* getState */.Gu(key);
}
const state = {
    /** Whether this process is the post step (main marks it before anything else). */
    isPost: () => load(Key.IsPost) === 'true',
    markPost: () => save(Key.IsPost, true),
    cluster: () => load(Key.Cluster),
    saveCluster: (v) => save(Key.Cluster, v),
    cleanup: () => load(Key.Cleanup),
    saveCleanup: (v) => save(Key.Cleanup, v),
    release: () => load(Key.Release),
    saveRelease: (v) => save(Key.Release, v),
    namespace: () => load(Key.Namespace),
    saveNamespace: (v) => save(Key.Namespace, v),
    status: () => load(Key.Status),
    saveStatus: (v) => save(Key.Status, v),
    minikubePath: () => load(Key.MinikubePath),
    saveMinikubePath: (v) => save(Key.MinikubePath, v),
    helmPath: () => load(Key.HelmPath),
    saveHelmPath: (v) => save(Key.HelmPath, v),
    kubectlPath: () => load(Key.KubectlPath),
    saveKubectlPath: (v) => save(Key.KubectlPath, v),
    dockerPath: () => load(Key.DockerPath),
    saveDockerPath: (v) => save(Key.DockerPath, v),
    /** Whether this run started the minikube cluster (so post may delete it). */
    clusterStarted: () => load(Key.ClusterStarted) === 'true',
    saveClusterStarted: () => save(Key.ClusterStarted, true),
    /** Whether the release was deployed (so post may uninstall it). */
    deployed: () => load(Key.Deployed) === 'true',
    saveDeployed: () => save(Key.Deployed, true),
    cacheKey: () => load(Key.CacheKey),
    saveCacheKey: (v) => save(Key.CacheKey, v),
    /** The folders of the minikube cache, all that restore asked for. */
    cachePaths: () => load(Key.CachePath)
        .split('\n')
        .filter((p) => p !== ''),
    saveCachePaths: (paths) => save(Key.CachePath, paths.join('\n')),
    cacheHit: () => load(Key.CacheHit) === 'true',
    saveCacheHit: (hit) => save(Key.CacheHit, hit),
    builder: () => load(Key.Builder),
    saveBuilder: (v) => save(Key.Builder, v),
    dockerContext: () => load(Key.DockerContext),
    saveDockerContext: (v) => save(Key.DockerContext, v),
    secretsDir: () => load(Key.SecretsDir),
    saveSecretsDir: (v) => save(Key.SecretsDir, v),
    repositoriesDir: () => load(Key.RepositoriesDir),
    saveRepositoriesDir: (v) => save(Key.RepositoriesDir, v),
    registryHost: () => load(Key.RegistryHost),
    saveRegistryHost: (v) => save(Key.RegistryHost, v)
};

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
;// CONCATENATED MODULE: ./src/redact.ts
// Secrets known to this run. Everything that enters the process from a program (exec.run) and
// everything that leaves it (logs, errors, report, comment, diagnostics) passes through redact().
const secrets = new Set();
let longest = 0;
/** Every form of every secret in one pattern, longest first; rebuilt when one is added. */
let pattern;
const MASK = '***';
/**
 * How a value looks when a program prints it inside JSON (kubectl's Go encoder also escapes
 * < > &), a single-quoted YAML string, a URL (helm's `urlquery` writes a space as `+`), and
 * each of those in base64, whole or inside a longer base64 text.
 */
function redact_forms(v) {
    const json = JSON.stringify(v).slice(1, -1);
    const goJson = json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const uri = encodeURIComponent(v);
    const query = uri
        .replace(/%20/g, '+')
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const text = [...new Set([v, json, goJson, v.replace(/'/g, "''"), uri, query])];
    return [
        ...text,
        ...text.map((t) => Buffer.from(t, 'utf8').toString('base64')),
        ...text.flatMap(embeddedBase64)
    ];
}
/**
 * The part of a longer base64 text that encodes the value, for each of the three offsets it can
 * start at (a password inside a base64 `DATABASE_URL` of a Secret): only the characters that
 * depend on the value alone, so the text around it does not matter.
 */
function embeddedBase64(v) {
    const bytes = Buffer.from(v, 'utf8');
    const out = [];
    for (const shift of [0, 1, 2]) {
        const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
        const from = Math.ceil((8 * shift) / 6);
        const to = Math.floor((8 * (shift + bytes.length)) / 6);
        const part = b64.slice(from, to);
        // Too short a part would mask ordinary base64 by chance.
        if (part.length >= 6)
            out.push(part);
    }
    return out;
}
function registerSecret(value) {
    // A multi-line value is masked line by line too: output is cut and redacted by lines.
    for (const part of [value, ...value.split(/\r?\n/)]) {
        const v = part.trim();
        // Very short values would blank out ordinary words; GitHub's own masking has the same floor.
        if (v.length < 3)
            continue;
        for (const f of redact_forms(v)) {
            if (secrets.has(f))
                continue;
            secrets.add(f);
            longest = Math.max(longest, f.length);
            pattern = undefined;
        }
    }
}
function redact(text) {
    if (secrets.size === 0 || text === '')
        return text;
    pattern ??= new RegExp([...secrets]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'), 'g');
    return text.replace(pattern, MASK);
}
/** A line longer than this is passed on before its end arrives. */
const HOLD_LIMIT = 64 * 1024;
/**
 * Redacts text that arrives in pieces (a program's output): a secret split across two
 * pieces is still caught, because only whole lines are passed on, redacted.
 */
class RedactingStream {
    out;
    pending = '';
    constructor(out) {
        this.out = out;
    }
    write(chunk) {
        const text = this.pending + chunk;
        const cut = text.lastIndexOf('\n') + 1;
        let ready = text.slice(0, cut);
        this.pending = text.slice(cut);
        if (this.pending.length > HOLD_LIMIT) {
            // Keep back only what could be the start of a secret whose end has not arrived yet.
            const r = redact(this.pending);
            const back = Math.min(r.length, Math.max(0, longest - 1));
            ready += r.slice(0, r.length - back);
            this.pending = r.slice(r.length - back);
        }
        if (ready)
            this.out(redact(ready));
    }
    end() {
        if (this.pending)
            this.out(redact(this.pending));
        this.pending = '';
    }
}

;// CONCATENATED MODULE: ./src/text.ts
// Text helpers every layer shares: durations, clipping, UTF-8-safe cuts, byte budgets, tails
// and error messages. Pure functions; imports nothing of ours (redaction is the caller's job).
// ---- durations ----
/** `4m`, `90s`, `1500ms`: a duration as a user writes it in an input. */
function formatMs(ms) {
    if (ms % 60_000 === 0 && ms >= 60_000)
        return `${ms / 60_000}m`;
    if (ms % 1000 === 0)
        return `${ms / 1000}s`;
    return `${ms}ms`;
}
/** `850 ms`, `12.3 s`, `3m 05s`, `1h 02m`: a measured time, for people. */
function formatDuration(ms) {
    if (!Number.isFinite(ms) || ms < 0)
        return '–';
    if (ms < 1000)
        return `${Math.round(ms)} ms`;
    if (ms < 60_000)
        return `${(ms / 1000).toFixed(1)} s`;
    const totalS = Math.round(ms / 1000);
    if (totalS < 3600)
        return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, '0')}s`;
    const totalM = Math.floor(totalS / 60);
    return `${Math.floor(totalM / 60)}h ${String(totalM % 60).padStart(2, '0')}m`;
}
// ---- clipping ----
/** At most `max` UTF-16 units, never splitting a surrogate pair, with `…` when cut. */
function clip(s, max) {
    if (s.length <= max)
        return s;
    let end = Math.max(0, max - 1);
    const last = s.charCodeAt(end - 1);
    if (end > 0 && last >= 0xd800 && last <= 0xdbff)
        end--;
    return `${s.slice(0, end)}…`;
}
// ---- UTF-8 bytes ----
function byteLength(s) {
    return Buffer.byteLength(s, 'utf8');
}
function asBuffer(text) {
    return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}
/** The first `n` bytes of `text`, not splitting a character. */
function utf8Head(text, n) {
    const buf = asBuffer(text);
    let end = Math.max(0, Math.min(n, buf.length));
    while (end > 0 && end < buf.length && (buf[end] & 0xc0) === 0x80)
        end--;
    return buf.subarray(0, end).toString('utf8');
}
/** The last `n` bytes of `text`, not splitting a character. */
function utf8Tail(text, n) {
    const buf = asBuffer(text);
    let start = Math.max(0, buf.length - Math.max(0, n));
    while (start < buf.length && (buf[start] & 0xc0) === 0x80)
        start++;
    return buf.subarray(start).toString('utf8');
}
/**
 * Shares `budget` bytes among items of the given sizes (water-filling): items smaller than an
 * equal share of what is left keep everything, the large ones split the rest equally.
 */
function shareBytes(sizes, budget) {
    const order = sizes.map((size, i) => ({ i, size })).sort((a, b) => a.size - b.size);
    const share = new Array(sizes.length).fill(0);
    let remaining = budget;
    order.forEach(({ i, size }, k) => {
        const fair = Math.floor(remaining / (order.length - k));
        share[i] = Math.min(size, fair);
        remaining -= share[i];
    });
    return share;
}
// ---- tails ----
/** The last `n` lines of `text` (trailing space dropped), saying how many were left out. */
function tailLines(text, n) {
    const lines = text.replace(/\s+$/, '').split(/\r?\n/);
    const kept = lines.length > n ? [`… ${lines.length - n} earlier lines not shown`, ...lines.slice(-n)] : lines;
    return kept.join('\n');
}
/** The last `n` non-blank lines of `text`, each without trailing space. */
function lastNonBlankLines(text, n) {
    const lines = text
        .split(/\r?\n/)
        .map((l) => l.trimEnd())
        .filter((l) => l.trim() !== '');
    return lines.slice(-n).join('\n');
}
// ---- errors ----
/** The message of anything thrown. */
function errorMessage(err) {
    return err instanceof Error ? err.message : String(err);
}

// EXTERNAL MODULE: external "node:child_process"
var external_node_child_process_ = __webpack_require__(31421);
;// CONCATENATED MODULE: ./src/exec.ts
// child_process, not @actions/exec: that never exposes the child, so it cannot time a command out or kill its process group.




const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const ABORT_GRACE_MS = 15_000;
const KEEP_BYTES = 8 * 1024 * 1024;
const TAIL_LINES = 12;
/** A program that failed: names the tool, its exit code and the last lines it printed. */
class ToolError extends Error {
    tool;
    args;
    exitCode;
    tail;
    timedOut;
    timeoutMs;
    constructor(tool, args, exitCode, tail, timedOut, timeoutMs) {
        super(ToolError.describe(tool, args, exitCode, tail, timedOut, timeoutMs));
        this.tool = tool;
        this.args = args;
        this.exitCode = exitCode;
        this.tail = tail;
        this.timedOut = timedOut;
        this.timeoutMs = timeoutMs;
        this.name = 'ToolError';
    }
    static describe(tool, args, exitCode, tail, timedOut, timeoutMs) {
        const cmd = redact([(0,external_node_path_.basename)(tool), ...args.slice(0, 3)].join(' '));
        const what = timedOut
            ? `timed out after ${formatMs(timeoutMs)}`
            : exitCode === null
                ? 'could not be started'
                : `failed with exit code ${exitCode}`;
        return tail ? `${cmd} ${what}: ${tail}` : `${cmd} ${what}`;
    }
    /**
     * The error of a program that ran and exited non-zero, as `run` throws it: for a caller that
     * ran with `allowFailure` to tell some failures apart, and throws the others.
     */
    static of(tool, args, r, timeoutMs) {
        const tail = lastLines(r.stderr) || lastLines(r.stdout);
        return new ToolError(tool, args, r.exitCode, tail, false, timeoutMs);
    }
}
/** The last meaningful lines of a program's output, redacted. */
function lastLines(text, n = TAIL_LINES) {
    // Redacted whole, before it is cut into lines: no cut ever splits a secret.
    return lastNonBlankLines(redact(text), n);
}
/**
 * The environment a program gets: the one given (or ours) without the action's `INPUT_*`
 * variables, which hold the token and the secret values and are no program's business.
 */
function childEnv(env = process.env) {
    const out = {};
    for (const [k, v] of Object.entries(env))
        if (!/^INPUT_/i.test(k))
            out[k] = v;
    return out;
}
/** `helm status web --output json`, redacted: how a command is named in an error. */
function commandLine(tool, args) {
    return redact([(0,external_node_path_.basename)(tool), ...args].join(' '));
}
/**
 * A program's answer that is not what it should print, named with the whole command:
 * "`helm status web --output json` printed output that is not JSON".
 */
class ToolOutputError extends Error {
    constructor(tool, args, what, output) {
        const shown = lastLines(output, 3);
        super(`\`${commandLine(tool, args)}\` printed ${what}${shown ? `: ${shown}` : ' (it printed nothing)'}`);
        this.name = 'ToolOutputError';
    }
}
/**
 * Parses a program's stdout as JSON, or says which command printed what instead. Every text in
 * the answer (keys and values) is redacted as it is parsed.
 */
function parseJsonOutput(tool, args, stdout) {
    try {
        return JSON.parse(stdout, (_key, value) => redactValue(value));
    }
    catch {
        throw new ToolOutputError(tool, args, 'output that is not JSON', stdout);
    }
}
function redactValue(value) {
    if (typeof value === 'string')
        return redact(value);
    if (value === null || typeof value !== 'object' || Array.isArray(value))
        return value;
    const obj = value;
    const keys = Object.keys(obj);
    if (keys.every((k) => redact(k) === k))
        return obj;
    // fromEntries defines each key as its own: a `__proto__` key stays a key.
    return Object.fromEntries(keys.map((k) => [redact(k), obj[k]]));
}
function keep(buf, chunk) {
    const next = buf + chunk;
    return next.length > KEEP_BYTES ? next.slice(next.length - KEEP_BYTES) : next;
}
/**
 * The one way this action runs a program: a tool and its arguments, never a shell string,
 * always bounded by a timeout. The whole process group is killed on timeout.
 */
function run(tool, args, opts = {}) {
    return execute(tool, args, opts, false);
}
/**
 * `run`, also keeping stdout as printed (`raw`) for a parser that redacts what it parsed:
 * a secret that happens to be `true` must not turn a JSON answer into something unreadable.
 */
async function execute(tool, args, opts, keepRaw) {
    // A program written a moment ago (a tool just installed) may still be open for writing in a
    // child another spawn forked meanwhile: exec then fails with ETXTBSY, before anything ran.
    for (let attempt = 1;; attempt++) {
        try {
            return await executeOnce(tool, args, opts, keepRaw);
        }
        catch (err) {
            if (!(err instanceof TextBusy))
                throw err;
            if (attempt >= SPAWN_ATTEMPTS)
                throw err.cause;
            await new Promise((r) => setTimeout(r, 50 * attempt));
        }
    }
}
const SPAWN_ATTEMPTS = 5;
/** The program could not be started because its file was busy (ETXTBSY): worth another try. */
class TextBusy extends Error {
}
function executeOnce(tool, args, opts, keepRaw) {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = Date.now();
    return new Promise((resolve, reject) => {
        let stdout = '';
        let stderr = '';
        let raw = '';
        let timedOut = false;
        let settled = false;
        // A program that cannot be started is reported like one that failed, whether spawn says so
        // at once (ETXTBSY is thrown) or through its 'error' event (ENOENT).
        const cannotStart = (err) => {
            const why = err.code === 'ENOENT' ? `${tool} was not found` : err.message;
            const failure = new ToolError(tool, args, null, redact(why), false, timeoutMs);
            return err.code === 'ETXTBSY' ? new TextBusy(why, { cause: failure }) : failure;
        };
        let child;
        try {
            child = (0,external_node_child_process_.spawn)(tool, [...args], {
                cwd: opts.cwd,
                env: childEnv(opts.env),
                stdio: ['pipe', 'pipe', 'pipe'],
                detached: true
            });
        }
        catch (err) {
            reject(cannotStart(err));
            return;
        }
        // Output is redacted as it arrives: nothing downstream (logs, verdicts, cut messages,
        // diagnostics) ever holds a secret, whatever it shortens or squeezes later.
        const out = new RedactingStream((d) => {
            stdout = keep(stdout, d);
            opts.sink?.write(d);
        });
        const err = new RedactingStream((d) => {
            stderr = keep(stderr, d);
            opts.sink?.write(d);
        });
        const timer = setTimeout(() => {
            timedOut = true;
            kill(child.pid);
        }, timeoutMs);
        let graceTimer;
        const onAbort = () => {
            try {
                if (child.pid !== undefined)
                    process.kill(child.pid, 'SIGTERM');
            }
            catch {
                // already gone
            }
            graceTimer = setTimeout(() => kill(child.pid), ABORT_GRACE_MS);
        };
        if (opts.signal?.aborted)
            onAbort();
        else
            opts.signal?.addEventListener('abort', onAbort, { once: true });
        const stopped = () => {
            clearTimeout(timer);
            clearTimeout(graceTimer);
            opts.signal?.removeEventListener('abort', onAbort);
        };
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
        child.stdout.on('data', (d) => {
            if (keepRaw)
                raw = keep(raw, d);
            out.write(d);
        });
        child.stderr.on('data', (d) => err.write(d));
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input ?? '');
        child.on('error', (err) => {
            if (settled)
                return;
            settled = true;
            stopped();
            reject(cannotStart(err));
        });
        child.on('close', (code, signal) => {
            if (settled)
                return;
            settled = true;
            stopped();
            out.end();
            err.end();
            const exitCode = code ?? (signal ? 128 : 1);
            const result = {
                exitCode,
                stdout,
                stderr,
                durationMs: Date.now() - started,
                ...(keepRaw ? { raw } : {})
            };
            if (opts.signal?.aborted && !timedOut) {
                const reason = opts.signal.reason;
                reject(reason instanceof Error ? reason : new Error(`${(0,external_node_path_.basename)(tool)} was stopped`));
            }
            else if (timedOut) {
                const tail = lastLines(stderr) || lastLines(stdout);
                reject(new ToolError(tool, args, null, tail, true, timeoutMs));
            }
            else if (exitCode !== 0 && !opts.allowFailure) {
                reject(ToolError.of(tool, args, result, timeoutMs));
            }
            else {
                resolve(result);
            }
        });
    });
}
function kill(pid) {
    if (pid === undefined)
        return;
    try {
        process.kill(-pid, 'SIGKILL');
    }
    catch {
        try {
            process.kill(pid, 'SIGKILL');
        }
        catch {
            // already gone
        }
    }
}
/** Runs a program and parses its stdout as JSON. */
async function runJson(tool, args, opts = {}) {
    const { raw } = await execute(tool, args, opts, true);
    return parseJsonOutput(tool, args, raw ?? '');
}
/** A program left running in the background (a port-forward), stopped by its owner. */
class Background {
    child;
    ready;
    constructor(child, 
    /** The match of the ready pattern. */
    ready) {
        this.child = child;
        this.ready = ready;
    }
    get alive() {
        return this.child.exitCode === null && this.child.signalCode === null;
    }
    stop() {
        if (this.alive)
            kill(this.child.pid);
    }
}
/**
 * Starts a long-running program and resolves once its output matches `readyPattern`.
 * It is bounded twice: by `startTimeoutMs` to become ready and by `lifetimeMs` overall.
 */
function startBackground(tool, args, opts) {
    return new Promise((resolve, reject) => {
        const child = (0,external_node_child_process_.spawn)(tool, [...args], {
            env: childEnv(opts.env),
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true
        });
        let out = '';
        let ready = false;
        const startTimer = setTimeout(() => {
            kill(child.pid);
            seen.end();
            reject(new ToolError(tool, args, null, lastLines(out, 3), true, opts.startTimeoutMs));
        }, opts.startTimeoutMs);
        const lifeTimer = setTimeout(() => kill(child.pid), opts.lifetimeMs);
        lifeTimer.unref();
        const seen = new RedactingStream((d) => {
            if (ready)
                return;
            out = keep(out, d);
            const m = opts.readyPattern.exec(out);
            if (m) {
                ready = true;
                clearTimeout(startTimer);
                resolve(new Background(child, m));
            }
        });
        const onData = (d) => {
            if (!ready)
                seen.write(d);
        };
        child.stdout?.setEncoding('utf8');
        child.stderr?.setEncoding('utf8');
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.on('error', (err) => {
            clearTimeout(startTimer);
            clearTimeout(lifeTimer);
            if (!ready)
                reject(new ToolError(tool, args, null, err.code === 'ENOENT' ? `${tool} was not found` : err.message, false, 0));
        });
        child.on('close', (code) => {
            clearTimeout(startTimer);
            clearTimeout(lifeTimer);
            seen.end();
            if (!ready)
                reject(new ToolError(tool, args, code, lastLines(out, 3), false, 0));
        });
    });
}

;// CONCATENATED MODULE: ./src/tools/docker.ts
// docker: the argv of build, buildx builders and contexts, login, push, tag and logout, and what their output says.

function buildFlags(image, reference) {
    const args = ['--progress=plain', '--tag', reference, '--file', image.dockerfile];
    if (image.target)
        args.push('--target', image.target);
    if (image.platform)
        args.push('--platform', image.platform);
    for (const { key, value } of image.buildArgs)
        args.push('--build-arg', `${key}=${value}`);
    return args;
}
/** `docker build` into the daemon docker talks to: the build without a cache or a builder. */
function buildArgs(image, reference) {
    return ['build', ...buildFlags(image, reference), image.context];
}
/** One field of BuildKit's comma-separated options, quoted when it holds a comma or a quote. */
function csvField(field) {
    return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
/** `docker buildx build` on a named builder, with a layer cache and an explicit output. */
function buildxArgs(image, reference, o) {
    const output = o.output === 'load'
        ? ['--load']
        : o.output === 'push'
            ? ['--output', 'type=image,push=true']
            : ['--output', `type=docker,${csvField(`dest=${o.output.tarball}`)}`];
    return [
        'buildx',
        'build',
        '--builder',
        o.builder,
        ...buildFlags(image, reference),
        ...o.cacheArgs,
        ...output,
        '--metadata-file',
        o.metadataFile,
        image.context
    ];
}
/**
 * A BuildKit in a container of the daemon docker talks to (or of the docker context named
 * `endpoint`): the builder that can export caches and tarballs.
 */
function createBuilderArgs(name, endpoint) {
    const args = ['buildx', 'create', '--name', name, '--driver', 'docker-container', '--bootstrap'];
    return endpoint ? [...args, endpoint] : args;
}
/**
 * A docker context for the daemon `DOCKER_HOST` and its TLS files name. buildx will not create a
 * builder from TLS settings in the environment (as `minikube docker-env` gives), only from a context.
 */
function createContextArgs(name, env) {
    const fields = [`host=${env['DOCKER_HOST'] ?? ''}`];
    const certs = env['DOCKER_CERT_PATH'];
    if (certs && env['DOCKER_TLS_VERIFY']) {
        fields.push(`ca=${certs}/ca.pem`, `cert=${certs}/cert.pem`, `key=${certs}/key.pem`);
    }
    return ['context', 'create', name, '--docker', fields.map(csvField).join(',')];
}
function removeContextArgs(name) {
    return ['context', 'rm', '--force', name];
}
function removeBuilderArgs(name) {
    return ['buildx', 'rm', name];
}
/** What buildx's `--metadata-file` says about the image: its config digest is the image ID. */
function metadataImageId(text) {
    try {
        const doc = JSON.parse(text);
        const id = doc['containerimage.config.digest'];
        return typeof id === 'string' && /^sha256:[0-9a-f]{64}$/.test(id) ? id : undefined;
    }
    catch {
        return undefined;
    }
}
/**
 * The registry digest of what a `--output type=image,push=true` build pushed
 * (`containerimage.digest`: the manifest or, with attestations, the index the tag points at).
 */
function metadataDigest(text) {
    try {
        const doc = JSON.parse(text);
        const digest = doc['containerimage.digest'];
        return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
    }
    catch {
        return undefined;
    }
}
/** The digest `docker buildx imagetools create --metadata-file` says the new tags point at. */
function metadataDescriptorDigest(text) {
    try {
        const doc = JSON.parse(text);
        const digest = doc['containerimage.descriptor']?.digest;
        return typeof digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
    }
    catch {
        return undefined;
    }
}
/**
 * `docker login`: the password is read from stdin (`--password-stdin`), never from argv, where
 * any process on the machine could read it.
 */
function loginArgs(host, username) {
    return ['login', host, '--username', username, '--password-stdin'];
}
function logoutArgs(host) {
    return ['logout', host];
}
function tagArgs(source, target) {
    return ['image', 'tag', source, target];
}
function pushArgs(reference) {
    return ['image', 'push', reference];
}
/** `docker load` of a docker-format tarball (as `buildxArgs` exports for minikube). */
function loadArgs(tarball) {
    return ['image', 'load', '--input', tarball];
}
function repoDigestsArgs(reference) {
    return ['image', 'inspect', '--format', '{{json .RepoDigests}}', reference];
}
/**
 * Puts `tags` on the image `source` (`<repository>@<digest>`) from registry to registry: nothing
 * is pulled, rebuilt or pushed again. `--prefer-index=false` makes it a carbon copy of a single
 * source (buildx 0.15 and later); without it buildx wraps a single image manifest in a new index,
 * and the tags would point at a digest that was never verified.
 */
function imagetoolsCreateArgs(source, tags, metadataFile) {
    return [
        'buildx',
        'imagetools',
        'create',
        '--prefer-index=false',
        '--progress=plain',
        '--metadata-file',
        metadataFile,
        ...tags.flatMap((t) => ['--tag', t]),
        source
    ];
}
class Docker {
    path;
    env;
    sink;
    constructor(path, env, sink) {
        this.path = path;
        this.env = env;
        this.sink = sink;
    }
    /** Runs a build; a failed build is returned, not thrown: its output says why. */
    build(args, timeoutMs) {
        const env = { ...(this.env ?? process.env), DOCKER_BUILDKIT: '1' };
        return run(this.path, args, { timeoutMs, env, sink: this.sink, allowFailure: true });
    }
    async createBuilder(name, timeoutMs, endpoint) {
        const o = { timeoutMs, env: this.env, sink: this.sink };
        await run(this.path, createBuilderArgs(name, endpoint), o);
    }
    /** Removes a buildx builder this run created; a failure is returned, not thrown. */
    removeBuilder(name, timeoutMs = 120_000) {
        return run(this.path, removeBuilderArgs(name), { timeoutMs, env: this.env, allowFailure: true });
    }
    /** Removes a docker context this run created; a failure is returned, not thrown. */
    removeContext(name, timeoutMs = 60_000) {
        return run(this.path, removeContextArgs(name), { timeoutMs, env: this.env, allowFailure: true });
    }
    async createContext(name, daemon) {
        const o = { timeoutMs: 60_000, env: this.env, sink: this.sink };
        await run(this.path, createContextArgs(name, daemon), o);
    }
    /** Logs in to a registry's host, the password on stdin; a refusal is returned, not thrown. */
    login(host, username, password, timeoutMs = 120_000) {
        return run(this.path, loginArgs(host, username), {
            timeoutMs,
            env: this.env,
            input: password,
            allowFailure: true
        });
    }
    /** Removes the stored credentials of a registry's host (nothing to remove is no failure). */
    logout(host, timeoutMs = 60_000) {
        return run(this.path, logoutArgs(host), { timeoutMs, env: this.env, allowFailure: true });
    }
    tag(source, target, timeoutMs = 60_000) {
        return run(this.path, tagArgs(source, target), {
            timeoutMs,
            env: this.env,
            allowFailure: true
        });
    }
    push(reference, timeoutMs) {
        return run(this.path, pushArgs(reference), {
            timeoutMs,
            env: this.env,
            sink: this.sink,
            allowFailure: true
        });
    }
    load(tarball, timeoutMs) {
        return run(this.path, loadArgs(tarball), {
            timeoutMs,
            env: this.env,
            sink: this.sink,
            allowFailure: true
        });
    }
    /** The `<repository>@<digest>` entries the daemon knows for an image ([] when it has none). */
    async repoDigests(reference) {
        const args = repoDigestsArgs(reference);
        const { stdout } = await run(this.path, args, { timeoutMs: 60_000, env: this.env });
        const doc = parseJsonOutput(this.path, args, stdout.trim().split('\n')[0] ?? '');
        return Array.isArray(doc) ? doc.filter((d) => typeof d === 'string') : [];
    }
    imagetoolsCreate(source, tags, metadataFile, timeoutMs = 10 * 60_000) {
        return run(this.path, imagetoolsCreateArgs(source, tags, metadataFile), {
            timeoutMs,
            env: this.env,
            sink: this.sink,
            allowFailure: true
        });
    }
    async inspect(reference) {
        const args = ['image', 'inspect', '--format', '{{json .}}', reference];
        const { stdout } = await run(this.path, args, { timeoutMs: 60_000, env: this.env });
        const doc = parseJsonOutput(this.path, args, stdout.trim().split('\n')[0]);
        if (!doc?.Id)
            throw new Error(`docker image inspect ${reference} printed no image ID`);
        return { id: doc.Id, sizeBytes: doc.Size };
    }
}

;// CONCATENATED MODULE: ./src/tools/registry.ts
// Registry references: where an image is pushed, how it is pinned, and what a registry's refusal
// means. Pure functions; the calls that push are in tools/docker.ts and images/push.ts.

const DIGEST = /^sha256:[0-9a-f]{64}$/;
// distribution's reference grammar for a tag.
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** distribution refuses a repository name (host and path) longer than this. */
const NAME_MAX = 255;
function isDigest(value) {
    return DIGEST.test(value);
}
/** Whether a registry accepts `value` as a tag. */
function isTag(value) {
    return TAG.test(value);
}
/**
 * The host `docker login` talks to for a registry reference: its first path component when that
 * names a host (has a `.` or a `:`, or is `localhost`), as Docker reads references; Docker Hub
 * (`docker.io`) otherwise. `ghcr.io/acme/shop` → `ghcr.io`, `127.0.0.1:5765/x` → `127.0.0.1:5765`.
 */
function registryHost(registry) {
    const first = registry.split('/')[0] ?? '';
    return /[.:]/.test(first) || first === 'localhost' ? first : 'docker.io';
}
/**
 * An image name as a repository path under the registry: each `/`-separated component is
 * lower-cased, every run of characters that is not `[a-z0-9]` becomes one `-` unless it is
 * already a separator the registry accepts (`.`, `_`, `__`, or dashes), separators at either end
 * of a component are dropped, and empty components are left out. A name Docker already accepts
 * (as the `images` input requires) is returned unchanged: `todo-chatbot-backend`, `acme/api`.
 */
function repositoryPath(name) {
    const components = name
        .toLowerCase()
        .split('/')
        .map((c) => c
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/[._-]+/g, (sep) => (/^(?:[._]|__|-+)$/.test(sep) ? sep : '-'))
        .replace(/^[._-]+|[._-]+$/g, ''))
        .filter((c) => c !== '');
    if (components.length === 0) {
        throw new Error(`the image name '${name}' has nothing a registry accepts as a repository name`);
    }
    return components.join('/');
}
/** `<registry>/<name>`: the repository an image is pushed to. */
function pushedRepository(registry, name) {
    const repository = `${registry.replace(/\/+$/, '')}/${repositoryPath(name)}`;
    if (repository.length > NAME_MAX) {
        throw new Error(`the repository ${repository} for the image ${name} is longer than the ${NAME_MAX} characters a registry accepts`);
    }
    return repository;
}
/** `<registry>/<name>:<tag>`: the reference an image is pushed as. */
function pushedReference(registry, name, tag) {
    if (!isTag(tag)) {
        throw new Error(`'${tag}' is not a tag a registry accepts (letters, digits, _ . -, at most 128, not starting with . or -)`);
    }
    return `${pushedRepository(registry, name)}:${tag}`;
}
/** The repository part of `<repository>:<tag>` or `<repository>@<digest>`. */
function repositoryOf(reference) {
    const at = reference.indexOf('@');
    const name = at >= 0 ? reference.slice(0, at) : reference;
    const slash = name.lastIndexOf('/');
    const colon = name.lastIndexOf(':');
    // A colon after the last slash starts the tag; one before it is the registry's port.
    return colon > slash ? name.slice(0, colon) : name;
}
/** The tag part of `<repository>:<tag>`, or undefined. */
function tagOf(reference) {
    const name = reference.split('@')[0];
    const slash = name.lastIndexOf('/');
    const colon = name.lastIndexOf(':');
    return colon > slash ? name.slice(colon + 1) : undefined;
}
/** What a push left in the registry, from the reference pushed and the digest read back. */
function pushedImage(reference, digest) {
    if (!isDigest(digest))
        throw new Error(`'${digest}' is not a sha256 digest (of ${reference})`);
    return { reference, digest, pinned: `${repositoryOf(reference)}@${digest}` };
}
/**
 * The chart values of a pushed image, pinned to its digest: `repository` is
 * `<registry>/<name>` and `tag` is `<tag>@<digest>`, so that a chart rendering
 * `{{ .repository }}:{{ .tag }}` (as nearly every chart does) gets
 * `<registry>/<name>:<tag>@sha256:…`. A reference with both a tag and a digest is pulled by the
 * digest (the tag is only read by people): the cluster runs exactly the image that was pushed
 * and verified, even when the tag has moved since.
 */
function digestPinnedValue(path, image) {
    const tag = tagOf(image.reference);
    // `<repository>:sha256:…` is no reference at all: only a tagged push can be pinned this way.
    if (!tag)
        throw new Error(`${image.reference} has no tag to pin to ${image.digest}`);
    return { path, repository: repositoryOf(image.reference), tag: `${tag}@${image.digest}` };
}
/**
 * The digest `docker push` printed for the tag it pushed: its last line is
 * `<tag>: digest: sha256:… size: <bytes>`.
 */
function pushOutputDigest(output, tag) {
    let found;
    for (const line of output.split(/\r?\n/)) {
        const m = /^\s*(\S+): digest: (sha256:[0-9a-f]{64}) size: \d+\s*$/.exec(line);
        if (m && m[1] === tag)
            found = m[2];
    }
    return found;
}
/** The digest of `repository` among an image's `RepoDigests` (`<repository>@sha256:…`). */
function repoDigest(repoDigests, repository) {
    for (const r of repoDigests) {
        const at = r.lastIndexOf('@');
        if (at > 0 && r.slice(0, at) === repository && isDigest(r.slice(at + 1)))
            return r.slice(at + 1);
    }
    return undefined;
}
/**
 * What a failed login, push or tag against a registry means, with the line that says so (without
 * docker's `Error response from daemon:` or buildx's `ERROR:` prefix).
 */
function registryFailure(output) {
    const lines = output
        .split(/\r?\n/)
        .map((l) => l
        .replace(/^\s*(?:#\d+\s+)?(?:ERROR:\s*|error:\s*)?(?:Error response from daemon:\s*)?/i, '')
        .trim())
        // Not the advice docker prints around a login that worked.
        .filter((l) => l !== '' &&
        !/^-+$/.test(l) &&
        !/^(?:WARNING!|Configure a credential|https?:\/\/docs\.docker\.com\/)/.test(l));
    const unreachable = /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|TLS handshake timeout|server gave HTTP response to HTTPS client|x509:|certificate|context deadline exceeded|Client\.Timeout/i;
    const denied = /\b(?:401|403)\b|unauthorized|denied|forbidden|no basic auth credentials|authentication required|incorrect username or password|permission_denied/i;
    for (const [kind, re] of [
        ['unreachable', unreachable],
        ['denied', denied]
    ]) {
        const line = [...lines].reverse().find((l) => re.test(l));
        if (line)
            return { kind, reason: clip(line, 300) };
    }
    return { kind: 'other', reason: clip(lines[lines.length - 1] ?? 'it printed nothing', 300) };
}

;// CONCATENATED MODULE: ./src/images/push.ts
// Images through a registry: log in, push a built image and read its digest back, put release
// tags on a verified digest, log out. Plain options in, values out; every refusal is one
// sentence naming the image and the registry (and, for a login, the user, never the password).







const PUSH_TIMEOUT_MS = 30 * 60_000;
const LOAD_TIMEOUT_MS = 15 * 60_000;
/**
 * `docker login` to the registry's host, the password on stdin only. Returns the host, which
 * `logoutFromRegistry` (in post) needs.
 */
async function loginToRegistry(docker, o) {
    const host = registryHost(o.registry);
    const as = `Could not log in to the registry ${host}`;
    if (!o.username)
        throw new Error(`${as}: input 'registry-username' is empty`);
    if (!o.password)
        throw new Error(`${as} as '${o.username}': input 'registry-password' is empty`);
    // Masked before docker runs: whatever it or the registry prints back is redacted as it arrives.
    registerSecret(o.password);
    const who = `${as} as '${o.username}'`;
    const result = await docker.login(host, o.username, o.password).catch((err) => {
        // docker missing or timed out: ToolError names the command, never its stdin.
        throw new Error(`${who}: ${errorMessage(err)}`);
    });
    if (result.exitCode === 0)
        return host;
    const { kind, reason } = registryFailure(`${result.stdout}\n${result.stderr}`);
    if (kind === 'unreachable')
        throw new Error(`${who}: it could not be reached (${reason})`);
    if (kind === 'denied') {
        throw new Error(`${who}: it refused the credentials (${reason}); check inputs 'registry-username' and 'registry-password'`);
    }
    throw new Error(`${who}: ${reason}`);
}
/**
 * `docker logout` of a host `loginToRegistry` logged in to. Returns why it failed, or undefined:
 * a logout that fails is for a warning in post, not a failed run.
 */
async function logoutFromRegistry(docker, host) {
    try {
        const result = await docker.logout(host);
        if (result.exitCode === 0)
            return undefined;
        return `Could not log out of the registry ${host}: ${registryFailure(`${result.stdout}\n${result.stderr}`).reason}`;
    }
    catch (err) {
        return `Could not log out of the registry ${host}: ${errorMessage(err)}`;
    }
}
/**
 * Pushes an image built into a daemon or exported to a tarball (`cluster: minikube`, after the
 * preview is healthy): `docker load` of the tarball when there is one, `docker tag` as
 * `<registry>/<name>:<tag>`, `docker push`; the digest is read from push's output, or from the
 * daemon's `RepoDigests` when the output does not say it.
 */
async function pushImage(docker, o) {
    const head = `Could not push the image ${o.name} to the registry ${o.registry}`;
    try {
        return await push(docker, o, head);
    }
    catch (err) {
        const message = errorMessage(err);
        throw message.startsWith(head) ? err : new Error(`${head}: ${message}`);
    }
}
async function push(docker, o, head) {
    const reference = pushedReference(o.registry, o.name, o.tag);
    const host = registryHost(o.registry);
    const timeoutMs = o.timeoutMs ?? PUSH_TIMEOUT_MS;
    const fail = (what, out) => {
        const { kind, reason } = registryFailure(`${out.stdout}\n${out.stderr}`);
        if (kind === 'unreachable')
            return new Error(`${head}: ${host} could not be reached (${reason})`);
        if (kind === 'denied') {
            return new Error(`${head}: it denied the push of ${reference} (${reason}); check that the registry user may write to ${repositoryOf(reference)}`);
        }
        return new Error(`${head}: ${what} failed (${reason})`);
    };
    if (o.source.tarball) {
        const loaded = await docker.load(o.source.tarball, Math.min(timeoutMs, LOAD_TIMEOUT_MS));
        if (loaded.exitCode !== 0)
            throw fail(`docker load of ${o.source.tarball}`, loaded);
    }
    const tagged = await docker.tag(o.source.image, reference);
    if (tagged.exitCode !== 0)
        throw fail(`docker tag of ${o.source.image}`, tagged);
    const pushed = await docker.push(reference, timeoutMs);
    if (pushed.exitCode !== 0)
        throw fail(`docker push of ${reference}`, pushed);
    const digest = pushOutputDigest(`${pushed.stdout}\n${pushed.stderr}`, o.tag) ??
        repoDigest(await docker.repoDigests(reference), repositoryOf(reference));
    if (!digest) {
        throw new Error(`${head}: it took ${reference}, but neither docker push nor the daemon said its digest`);
    }
    return pushedImage(reference, digest);
}
/**
 * What a build with `buildxArgs(…, { output: 'push' })` pushed (`cluster: existing`): the
 * reference it was tagged with and the digest from its metadata file (`undefined`: the file
 * was not written).
 */
function pushedByBuild(name, reference, metadataText) {
    const digest = metadataText === undefined ? undefined : metadataDigest(metadataText);
    if (!digest) {
        throw new Error(`The build of ${name} pushed ${reference}, but its metadata file holds no containerimage.digest to pin the chart to`);
    }
    return pushedImage(reference, digest);
}
/**
 * Puts `tags` (the `push-tags` input) on the pushed digest, registry to registry, after the
 * preview was verified: each `<registry>/<name>:<tag>` then points at exactly `image.digest`,
 * nothing rebuilt or pushed again. Returns the references it tagged.
 */
async function promoteImage(docker, name, image, tags, timeoutMs) {
    if (tags.length === 0)
        return [];
    const repository = repositoryOf(image.reference);
    const registry = registryHost(repository);
    const references = tags.map((t) => {
        if (!isTag(t)) {
            throw new Error(`Could not tag the image ${name} in the registry ${registry}: '${t}' is not a tag a registry accepts`);
        }
        return `${repository}:${t}`;
    });
    const dir = (0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)((0,external_node_os_.tmpdir)(), 'minikube-preview-promote-'));
    const metadataFile = (0,external_node_path_.join)(dir, 'metadata.json');
    try {
        const head = `Could not tag the image ${name} as ${tags.join(', ')} in the registry ${registry}`;
        const result = await docker
            .imagetoolsCreate(image.pinned, references, metadataFile, timeoutMs)
            .catch((err) => {
            throw new Error(`${head}: ${errorMessage(err)}`);
        });
        if (result.exitCode !== 0) {
            const output = `${result.stdout}\n${result.stderr}`;
            if (/unknown flag: --prefer-index/.test(output)) {
                throw new Error(`${head}: this docker buildx cannot copy a digest as it is (--prefer-index needs buildx 0.15 or later)`);
            }
            const { kind, reason } = registryFailure(output);
            if (kind === 'unreachable')
                throw new Error(`${head}: it could not be reached (${reason})`);
            if (kind === 'denied')
                throw new Error(`${head}: it denied the tags (${reason})`);
            throw new Error(`${head}: ${reason}`);
        }
        let written;
        try {
            written = metadataDescriptorDigest((0,external_node_fs_.readFileSync)(metadataFile, 'utf8'));
        }
        catch {
            // An older buildx writes no metadata: nothing to compare.
        }
        if (written && written !== image.digest) {
            throw new Error(`${head}: the tags point at ${written}, not at the verified digest ${image.digest}`);
        }
        return references;
    }
    finally {
        (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true });
    }
}

// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(38815);
;// CONCATENATED MODULE: ./src/tools/helm.ts
// helm: the argv of each command, the values documents it reads, and what its output says.


/** The values part of helm's argv, shared by `template` and `upgrade`; later flags win. */
function valuesArgs(o) {
    const args = [];
    for (const f of o.valuesFiles)
        args.push('--values', f);
    if (o.secretValuesFile)
        args.push('--values', o.secretValuesFile);
    for (const img of o.images) {
        args.push('--set-string', `${img.path}.repository=${img.repository}`);
        args.push('--set-string', `${img.path}.tag=${img.tag}`);
        // A `latest` tag with `Always` is what made the cluster try to pull a local image.
        args.push('--set-string', `${img.path}.pullPolicy=IfNotPresent`);
    }
    for (const s of o.set)
        args.push('--set', s);
    for (const s of o.setString)
        args.push('--set-string', s);
    return args;
}
/**
 * Helm 4 renamed `--atomic` to `--rollback-on-failure`: a user's helm-args work with either.
 * Returns the arguments for this Helm and a note when one was translated.
 */
function translateHelmArgs(args, helmMajor) {
    const [from, to] = helmMajor >= 4 ? ['--atomic', '--rollback-on-failure'] : ['--rollback-on-failure', '--atomic'];
    let note;
    const out = args.map((a) => {
        if (a === from || a.startsWith(`${from}=`)) {
            note = `helm-args: '${from}' is '${to}' in Helm ${helmMajor}; using '${to}'`;
            return a.replace(from, to);
        }
        return a;
    });
    return { args: out, note };
}
function seconds(ms) {
    return `${Math.max(1, Math.ceil(ms / 1000))}s`;
}
function upgradeArgs(o) {
    return [
        'upgrade',
        '--install',
        o.release,
        o.chart,
        '--namespace',
        o.namespace,
        ...(o.createNamespace === false ? [] : ['--create-namespace']),
        '--timeout',
        seconds(o.timeoutMs),
        ...labelsArgs(o.labels),
        ...valuesArgs(o),
        ...translateHelmArgs(o.helmArgs, o.helmMajor).args
    ];
}
function labelsArgs(labels) {
    const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v ?? ''}`);
    return pairs.length > 0 ? ['--labels', pairs.join(',')] : [];
}
/** Whether this Helm takes `upgrade --labels` and `list --selector` on them (3.13.0 and later). */
function supportsReleaseLabels(version) {
    const m = /v?(\d+)\.(\d+)\./.exec(version);
    if (!m)
        return false;
    const [major, minor] = [Number(m[1]), Number(m[2])];
    return major > 3 || (major === 3 && minor >= 13);
}
/** Deployed, failed and pending releases (Helm 4 has no `--all`), more than the 256 of a page. */
function listArgs(selector) {
    return [
        'list',
        '--all-namespaces',
        '--deployed',
        '--failed',
        '--pending',
        '--max',
        '1000',
        '--selector',
        selector,
        '--output',
        'json'
    ];
}
function uninstallArgs(release, namespace, timeoutMs) {
    return ['uninstall', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)];
}
// Helm 3: "uninstall: Release not loaded: web: release: not found"; Helm 4 the same words.
const RELEASE_NOT_FOUND = /release: not found/;
function templateArgs(o) {
    return ['template', o.release, o.chart, '--namespace', o.namespace, ...valuesArgs(o)];
}
function repositoryFlags(repos) {
    return ['--repository-config', repos.config, '--repository-cache', repos.cache];
}
function repoAddArgs(name, url, repos) {
    return ['repo', 'add', name, url, ...repositoryFlags(repos)];
}
function dependencyBuildArgs(chart, repos) {
    return [
        'dependency',
        'build',
        chart,
        ...repositoryFlags(repos),
        ...(repos.skipRefresh ? ['--skip-refresh'] : [])
    ];
}
/** The objects of a rendered or deployed manifest (multi-document YAML). */
function manifestObjects(manifest) {
    const out = [];
    for (const doc of (0,dist/* parseAllDocuments */.hR)(manifest)) {
        // Read field by field, not doc.toJS(): a redacted secret (`password: ***`) is an unresolved
        // YAML alias that would make the whole document unreadable.
        const text = (path) => {
            const v = doc.getIn(path);
            return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
        };
        const kind = text(['kind']);
        const name = text(['metadata', 'name']);
        if (!kind || !name)
            continue;
        const annotations = {};
        const map = doc.getIn(['metadata', 'annotations'], true);
        if ((0,dist/* isMap */.jh)(map)) {
            for (const pair of map.items) {
                const k = (0,dist/* isScalar */.jn)(pair.key) ? pair.key.value : pair.key;
                const v = (0,dist/* isScalar */.jn)(pair.value) ? pair.value.value : undefined;
                if (typeof k === 'string' && v !== undefined && v !== null)
                    annotations[k] = String(v);
            }
        }
        out.push({
            apiVersion: text(['apiVersion']) ?? '',
            kind,
            name,
            namespace: text(['metadata', 'namespace']),
            annotations,
            ...(kind === 'Ingress'
                ? {
                    ingress: {
                        hosts: specEntries(doc, 'rules').flatMap((r) => stringsOf(r.get('host', true))),
                        tlsHosts: specEntries(doc, 'tls').flatMap((t) => stringsOf(t.get('hosts', true)))
                    }
                }
                : {})
        });
    }
    return out;
}
/** The maps of a list under `spec` (an Ingress's `rules` or `tls`). */
function specEntries(doc, field) {
    const seq = doc.getIn(['spec', field], true);
    return (0,dist/* isSeq */.oP)(seq) ? seq.items.filter(dist/* isMap */.jh) : [];
}
/** The strings of a scalar or of a list of scalars. */
function stringsOf(node) {
    const items = (0,dist/* isSeq */.oP)(node) ? node.items : [node];
    return items.flatMap((n) => ((0,dist/* isScalar */.jn)(n) && typeof n.value === 'string' ? [n.value] : []));
}
/** Test hooks of a release (`helm.sh/hook: test` or the older `test-success`). */
function testHooks(hooksManifest) {
    return manifestObjects(hooksManifest).filter((o) => (o.annotations['helm.sh/hook'] ?? '')
        .split(',')
        .map((h) => h.trim())
        .some((h) => h === 'test' || h === 'test-success'));
}
/** `v4.3.1+g1234` → `v4.3.1` and its major. */
function parseHelmVersion(out) {
    const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
    if (!m)
        throw new Error(`could not read helm's version from '${out.trim()}'`);
    return { version: `v${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]) };
}
class Helm {
    path;
    env;
    sink;
    constructor(path, env, sink) {
        this.path = path;
        this.env = env;
        this.sink = sink;
    }
    run(args, timeoutMs, allowFailure = false) {
        return run(this.path, args, { timeoutMs, env: this.env, sink: this.sink, allowFailure });
    }
    async version() {
        const { stdout } = await run(this.path, ['version', '--short'], {
            timeoutMs: 30_000,
            env: this.env
        });
        return parseHelmVersion(stdout);
    }
    /** The user's own repository config (`@name` dependencies refer to its entries). */
    async repositoryConfig() {
        const { stdout } = await run(this.path, ['env', 'HELM_REPOSITORY_CONFIG'], {
            timeoutMs: 30_000,
            env: this.env
        });
        return stdout.trim();
    }
    /** Adds a chart repository to the run's own config; helm downloads its index.yaml to check it. */
    repoAdd(name, url, repos, timeoutMs) {
        return this.run(repoAddArgs(name, url, repos), timeoutMs);
    }
    dependencyBuild(chart, repos, timeoutMs) {
        return this.run(dependencyBuildArgs(chart, repos), timeoutMs);
    }
    async template(o, timeoutMs) {
        const { stdout } = await run(this.path, templateArgs(o), { timeoutMs, env: this.env });
        return stdout;
    }
    upgrade(o, signal) {
        // Hooks are bounded by --timeout; the extra minute lets helm report its own error first.
        return run(this.path, upgradeArgs(o), {
            timeoutMs: o.timeoutMs + 60_000,
            env: this.env,
            sink: this.sink,
            signal
        });
    }
    async manifest(release, namespace) {
        return (await this.run(['get', 'manifest', release, '--namespace', namespace], 60_000)).stdout;
    }
    async hooks(release, namespace) {
        return (await this.run(['get', 'hooks', release, '--namespace', namespace], 60_000)).stdout;
    }
    async revision(release, namespace) {
        const doc = await runJson(this.path, ['status', release, '--namespace', namespace, '--output', 'json'], { timeoutMs: 60_000, env: this.env });
        return doc?.version;
    }
    test(release, namespace, timeoutMs, signal) {
        return run(this.path, ['test', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)], { timeoutMs: timeoutMs + 60_000, env: this.env, sink: this.sink, allowFailure: true, signal });
    }
    status(release, namespace) {
        return this.run(['status', release, '--namespace', namespace], 60_000, true);
    }
    history(release, namespace) {
        return this.run(['history', release, '--namespace', namespace, '--max', '10'], 60_000, true);
    }
    rollback(release, namespace, timeoutMs) {
        return this.run(['rollback', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)], timeoutMs + 60_000);
    }
    /** Uninstalls a release; `absent` when there was none (already removed is not a failure). */
    async uninstallRelease(release, namespace, timeoutMs) {
        const args = uninstallArgs(release, namespace, timeoutMs);
        const r = await this.run(args, timeoutMs + 60_000, true);
        if (r.exitCode === 0)
            return 'removed';
        if (RELEASE_NOT_FOUND.test(r.stderr))
            return 'absent';
        throw ToolError.of(this.path, args, r, timeoutMs);
    }
    /** Every release in any namespace whose labels match `selector` (Helm 3.13 and later). */
    async releases(selector, timeoutMs = 60_000) {
        const list = await runJson(this.path, listArgs(selector), { timeoutMs, env: this.env });
        return (list ?? []).map((r) => ({
            name: r.name,
            namespace: r.namespace,
            revision: Number(r.revision),
            status: r.status
        }));
    }
    /**
     * The labels of a release's current revision: Helm 4 prints them in `get metadata`, Helm 3
     * does not (undefined then).
     */
    async releaseLabels(release, namespace, timeoutMs = 60_000) {
        const doc = await runJson(this.path, ['get', 'metadata', release, '--namespace', namespace, '--output', 'json'], { timeoutMs, env: this.env });
        return doc?.labels;
    }
    uninstall(release, namespace, timeoutMs) {
        return this.run(['uninstall', release, '--namespace', namespace, '--timeout', seconds(timeoutMs)], timeoutMs + 60_000);
    }
}

;// CONCATENATED MODULE: ./src/tools/minikube.ts
// minikube: the argv of start, addons, image load and delete, and what their output says.



/** minikube's default container runtime (`defaultRuntime()` in cmd/minikube/cmd/start.go, v1.3x). */
const MINIKUBE_DEFAULT_RUNTIME = 'docker';
/**
 * The container runtime a cluster starts with: `--container-runtime` in `start-args` wins, then
 * `image-load: docker-env` (which needs docker), then minikube's default. Its preload tarball
 * differs per runtime, so the cache key holds it.
 */
function containerRuntime(imageLoad, extraArgs) {
    for (let i = extraArgs.length - 1; i >= 0; i--) {
        const a = extraArgs[i];
        const m = /^--container-runtime=(.+)$/.exec(a);
        if (m)
            return m[1];
        if (a === '--container-runtime' && extraArgs[i + 1])
            return extraArgs[i + 1];
    }
    return imageLoad === 'docker-env' ? 'docker' : MINIKUBE_DEFAULT_RUNTIME;
}
/** minikube's own folder: `$MINIKUBE_HOME` when it is a `.minikube`, else `.minikube` inside it or home. */
function minikubeDir(env, home) {
    const set = env['MINIKUBE_HOME'];
    if (!set)
        return (0,external_node_path_.join)(home, '.minikube');
    return (0,external_node_path_.basename)(set) === '.minikube' ? set : (0,external_node_path_.join)(set, '.minikube');
}
/**
 * What the minikube cache saves: the kic base image and the preload tarball. Not
 * `cache/images`: it holds images of earlier runs, this project's among them.
 */
function minikubeCachePaths(dir) {
    return [(0,external_node_path_.join)(dir, 'cache', 'kic'), (0,external_node_path_.join)(dir, 'cache', 'preloaded-tarball')];
}
/** Minikube's own reason for a failure: `GUEST_PROVISION: error provisioning guest`. */
function minikubeReason(output) {
    const lines = output.split(/\r?\n/);
    for (let i = lines.length - 1; i >= 0; i--) {
        const m = /Exiting due to ([A-Z][A-Z0-9_]+):?\s*(.*)$/.exec(lines[i]);
        if (m)
            return m[2] ? `${m[1]}: ${m[2].trim()}` : m[1];
    }
    return undefined;
}
function startArgs(o) {
    const args = [
        'start',
        `--driver=${o.driver}`,
        `--cpus=${o.cpus}`,
        `--memory=${o.memory}`,
        `--nodes=${o.nodes}`,
        '--interactive=false',
        '--wait=apiserver,system_pods,node_ready',
        `--wait-timeout=${Math.max(1, Math.round(o.waitTimeoutMs / 1000))}s`
    ];
    if (o.kubernetesVersion)
        args.push(`--kubernetes-version=${o.kubernetesVersion}`);
    if (o.containerRuntime)
        args.push(`--container-runtime=${o.containerRuntime}`);
    return [...args, ...o.extraArgs];
}
/** `sha256:abc…` and `abc…` (or a prefix of it) name the same image. */
function sameImageId(a, b) {
    const x = a.replace(/^sha256:/, '');
    const y = b.replace(/^sha256:/, '');
    if (x.length < 12 || y.length < 12)
        return false;
    return x.startsWith(y) || y.startsWith(x);
}
/** Docker normalises `name:tag` to `docker.io/library/name:tag`; minikube lists the long form. */
function sameReference(listed, ref) {
    const strip = (r) => r.replace(/^docker\.io\//, '').replace(/^library\//, '');
    return strip(listed) === strip(ref);
}
/** A failed start, told with minikube's own reason when it gave one. */
function startFailure(err) {
    if (err instanceof ToolError) {
        const reason = minikubeReason(err.tail);
        if (err.timedOut)
            return `minikube start timed out after ${formatMs(err.timeoutMs)}${reason ? `: ${reason}` : ''}`;
        return reason ?? err.message;
    }
    return errorMessage(err);
}
/**
 * Whether `minikube start` created its machine (`Creating docker container (CPUs=2, …) ...`)
 * rather than started or updated one left from before (`Updating the running …`, `Restarting existing …`).
 */
function createdCluster(result) {
    const out = `${result.stdout}\n${result.stderr}`;
    return (/Creating \S+ .*\(CPUs=/.test(out) && !/Updating the running |Restarting existing /.test(out));
}
class Minikube {
    path;
    sink;
    constructor(path, sink) {
        this.path = path;
        this.sink = sink;
    }
    run(args, timeoutMs, env) {
        return run(this.path, args, { timeoutMs, sink: this.sink, env });
    }
    start(o, timeoutMs) {
        return this.run(startArgs(o), timeoutMs);
    }
    delete(timeoutMs = 120_000) {
        return this.run(['delete'], timeoutMs);
    }
    async ip() {
        return (await run(this.path, ['ip'], { timeoutMs: 30_000 })).stdout.trim();
    }
    /** The cluster's Kubernetes version, as minikube configured it. */
    async kubernetesVersion() {
        const { stdout } = await run(this.path, ['profile', 'list', '--output=json'], {
            timeoutMs: 30_000
        });
        try {
            const doc = JSON.parse(stdout);
            const profile = doc.valid?.find((p) => p.Name === 'minikube') ?? doc.valid?.[0];
            return profile?.Config?.KubernetesConfig?.KubernetesVersion;
        }
        catch {
            return undefined;
        }
    }
    enableAddon(name, timeoutMs) {
        return this.run(['addons', 'enable', name], timeoutMs);
    }
    /** Environment that points docker at the cluster's Docker daemon. */
    async dockerEnv() {
        const { stdout } = await run(this.path, ['docker-env', '--shell', 'none'], {
            timeoutMs: 60_000
        });
        const env = {};
        for (const line of stdout.split(/\r?\n/)) {
            const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
            if (m && m[2] !== '')
                env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
        }
        if (!env['DOCKER_HOST'])
            throw new Error('minikube docker-env printed no DOCKER_HOST');
        return env;
    }
    /** Whether a node already holds this image reference with this image ID. */
    async hasImage(ref, id) {
        const { stdout } = await run(this.path, ['image', 'ls', '--format', 'json'], {
            timeoutMs: 120_000
        });
        let images;
        try {
            images = JSON.parse(stdout);
        }
        catch {
            return false;
        }
        return images.some((img) => (img.repoTags ?? []).some((t) => sameReference(t, ref)) &&
            img.id !== undefined &&
            sameImageId(img.id, id));
    }
    loadImage(ref, timeoutMs) {
        return this.run(['image', 'load', ref], timeoutMs);
    }
    logs(timeoutMs = 60_000) {
        return run(this.path, ['logs', '--problems'], { timeoutMs, allowFailure: true });
    }
}

;// CONCATENATED MODULE: ./src/post.ts
// The post step: secret files removed, cache saved, then cleanup per `cleanup`, reusing the tool wrappers.









/** Whether the post step removes what main created. */
function shouldClean(cleanup, status) {
    if (cleanup === 'never')
        return false;
    if (cleanup === 'on-success')
        return status === 'healthy';
    return true;
}
/**
 * The secret values file or the run's helm repository config (which may hold a copied
 * password), if main left them behind (killed or cancelled while helm ran): removed whatever
 * `cleanup` says, before anything else.
 */
function removeSecretValues(dir) {
    // Only a folder of ours: the state file is written by main, but never trust a path blindly.
    const ours = /^minikube-preview-(secrets|helm-repositories)-\d+$/.exec((0,external_node_path_.basename)(dir));
    if (!dir || !ours || !(0,external_node_fs_.existsSync)(dir))
        return;
    const what = ours[1] === 'secrets' ? 'secret values file' : 'helm repository config';
    try {
        (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true });
        core/* info */.pq(`removed the ${what} main left behind`);
    }
    catch (err) {
        core/* warning */.$e(`Could not remove the ${what} folder ${dir}: ${errorMessage(err)}`);
    }
}
/** secret values removed, cache save, then cleanup per `cleanup`. Never fails the job: it only warns. */
async function post() {
    // Post reads only the state main saved; no program it starts needs the inputs.
    for (const k of Object.keys(process.env))
        if (/^INPUT_/i.test(k))
            delete process.env[k];
    removeSecretValues(state.secretsDir());
    removeSecretValues(state.repositoriesDir());
    await saveCache();
    await removeBuilder();
    await logout();
    const cleanup = state.cleanup() || 'always';
    const status = state.status() || 'error';
    if (!shouldClean(cleanup, status)) {
        core/* info */.pq(`cleanup: ${cleanup} and the preview is ${status}: leaving everything in place`);
        return;
    }
    if (state.cluster() === 'existing')
        await uninstall();
    else
        await deleteMinikube();
}
async function saveCache() {
    const key = state.cacheKey();
    // All of the paths restore asked for, even one that is missing: the cache's version is a hash of them.
    const paths = state.cachePaths();
    if (!key || !paths.some((p) => (0,external_node_fs_.existsSync)(p)) || state.cacheHit())
        return;
    const cache = await Promise.all(/* import() */[__webpack_require__.e(110), __webpack_require__.e(91)]).then(__webpack_require__.bind(__webpack_require__, 18091)); // loaded only when a cache is used
    if (!cache.isFeatureAvailable())
        return;
    try {
        await cache.saveCache(paths, key);
        core/* info */.pq(`saved ${paths.join(', ')} as cache ${key}`);
    }
    catch (err) {
        core/* warning */.$e(`Could not save the minikube cache: ${errorMessage(err)}`);
    }
}
/** The buildx builder main created for the layer cache (never one named by `builder`), and its context. */
async function removeBuilder() {
    const path = state.dockerPath();
    if (!path)
        return;
    const docker = new Docker(path, process.env);
    const remove = async (what, removal) => {
        const r = await removal.catch((err) => ({ exitCode: 1, stderr: errorMessage(err) }));
        if (r.exitCode === 0)
            core/* info */.pq(`removed the ${what}`);
        else
            core/* warning */.$e(`Could not remove the ${what}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
    };
    const name = state.builder();
    if (name)
        await remove(`buildx builder ${name}`, docker.removeBuilder(name));
    const context = state.dockerContext();
    if (context)
        await remove(`docker context ${context}`, docker.removeContext(context));
}
/** Out of the registry main logged in to, whatever the verdict: a failure is a warning. */
async function logout() {
    const path = state.dockerPath();
    const host = state.registryHost();
    if (!path || !host)
        return;
    const problem = await logoutFromRegistry(new Docker(path, process.env), host);
    if (problem)
        core/* warning */.$e(problem);
    else
        core/* info */.pq(`logged out of the registry ${host}`);
}
async function deleteMinikube() {
    const path = state.minikubePath();
    if (!path || !state.clusterStarted())
        return;
    core/* startGroup */.Oh('Delete the minikube cluster');
    try {
        const r = await new Minikube(path).delete(180_000);
        core/* info */.pq(r.stdout.trim() || r.stderr.trim());
    }
    catch (err) {
        core/* warning */.$e(`minikube delete failed: ${errorMessage(err)}`);
    }
    finally {
        core/* endGroup */.N4();
    }
}
/** On a shared cluster, cleanup means the release this run installed, not the cluster. */
async function uninstall() {
    const path = state.helmPath();
    const release = state.release();
    const namespace = state.namespace();
    if (!path || !release || !state.deployed())
        return;
    core/* startGroup */.Oh(`Uninstall ${release} from ${namespace}`);
    try {
        const r = await new Helm(path).uninstall(release, namespace, 120_000);
        core/* info */.pq(r.stdout.trim() || r.stderr.trim());
    }
    catch (err) {
        core/* warning */.$e(`helm uninstall ${release} failed: ${errorMessage(err)}`);
    }
    finally {
        core/* endGroup */.N4();
    }
}

;// CONCATENATED MODULE: ./src/parse.ts
// Small parsers for input values. Each returns a value or throws a message fragment that
// says what was expected; inputs.ts adds the input's name.
class Invalid extends Error {
    shown;
    constructor(message, 
    /** What the error shows as the value given, when that is not the value itself ('' for nothing). */
    shown) {
        super(message);
        this.shown = shown;
    }
}
const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest wait any input accepts: a GitHub-hosted job is cancelled after 6 hours. */
const MAX_DURATION_MS = 6 * 3_600_000;
/** `90000` → `1m30s`, `21600000` → `6h`: how a duration is written back to a user. */
function durationText(ms) {
    if (ms === 0)
        return '0s';
    const parts = [];
    let rest = ms;
    for (const [unit, size] of [
        ['d', 86_400_000],
        ['h', 3_600_000],
        ['m', 60_000],
        ['s', 1000],
        ['ms', 1]
    ]) {
        const n = Math.floor(rest / size);
        if (n > 0)
            parts.push(`${n}${unit}`);
        rest -= n * size;
    }
    return parts.join('');
}
/**
 * `90s`, `5m`, `1h30m`, `300` (seconds) → milliseconds, within `bounds` (default: 1ms to 6h).
 * A duration that is not a whole number of milliseconds is refused, not rounded: `0.1ms` would
 * become 0. `0s` is accepted only when the lower bound is 0 (a window that can be turned off).
 */
function parseDuration(raw, bounds = { minMs: 1, maxMs: MAX_DURATION_MS }) {
    const text = raw.trim();
    const examples = bounds.days ? `'12h', '3d' or '1d12h'` : `'90s', '5m' or '1h30m'`;
    const expected = bounds.minMs === 0
        ? `a duration such as ${examples}, at most ${durationText(bounds.maxMs)} ('0s' turns it off)`
        : `a duration such as ${examples}, between ${durationText(bounds.minMs)} and ${durationText(bounds.maxMs)}`;
    let total;
    if (/^\d+$/.test(text)) {
        total = Number(text) * 1000;
    }
    else {
        const re = bounds.days ? /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy : /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
        total = 0;
        let consumed = 0;
        for (let m = re.exec(text); m; m = re.exec(text)) {
            total += Number(m[1]) * UNITS[m[2]];
            consumed = re.lastIndex;
        }
        if (text === '' || consumed !== text.length)
            throw new Invalid(expected);
    }
    if (!Number.isFinite(total) || total < bounds.minMs || total > bounds.maxMs)
        throw new Invalid(expected);
    if (Math.abs(total - Math.round(total)) > 1e-6)
        throw new Invalid(expected);
    total = Math.round(total);
    if (total === 0 && bounds.minMs > 0)
        throw new Invalid(expected);
    return total;
}
/** A parser for one duration input, for `field()`: `durationBetween(0, 10 * 60_000)`. */
function durationBetween(minMs, maxMs) {
    return (raw) => parseDuration(raw, { minMs, maxMs });
}
function parseBoolean(raw) {
    const t = raw.trim().toLowerCase();
    if (t === 'true')
        return true;
    if (t === 'false')
        return false;
    throw new Invalid(`'true' or 'false'`);
}
function parseChoice(raw, choices) {
    const t = raw.trim().toLowerCase();
    const found = choices.find((c) => c === t);
    if (found === undefined)
        throw new Invalid(`one of ${choices.map((c) => `'${c}'`).join(', ')}`);
    return found;
}
function parsePositiveInt(raw) {
    const t = raw.trim();
    if (!/^\d+$/.test(t) || Number(t) < 1)
        throw new Invalid('a whole number of at least 1');
    return Number(t);
}
/** `v1.2.3` or `latest`; `1.2.3` is accepted and given its `v`. */
function parseVersion(raw, allowEmpty = false) {
    const t = raw.trim();
    if (t === '' && allowEmpty)
        return '';
    if (t.toLowerCase() === 'latest')
        return 'latest';
    const m = /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(t);
    if (!m)
        throw new Invalid(`a version like 'v1.2.3' or 'latest'`);
    return `v${m[1]}`;
}
function parseBaseUrl(raw) {
    const t = raw.trim().replace(/\/+$/, '');
    let url;
    try {
        url = new URL(t);
    }
    catch {
        throw new Invalid('an http(s) URL', hideCredentials(t));
    }
    if (url.username || url.password) {
        // The value is never shown: it holds a password.
        throw new Invalid(`an http(s) URL without a user or password in it ('user:password@' would be printed and sent with every download)`, `${url.protocol}//***@${url.host}${url.pathname === '/' ? '' : url.pathname}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Invalid('an http(s) URL');
    return t;
}
/** `scheme://user:pass@host/…` → `scheme://***@host/…`, for a value that is not a URL at all. */
function hideCredentials(text) {
    return text.replace(/^([^:/?#]*:\/\/)[^/?#]*@/, '$1***@');
}
/** Names that would reach an object's prototype instead of a key of its own. */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];
/**
 * A helm values key (`a.b[0].c`, `a\.b`): refused when one of its parts is a reserved name.
 * Returns the reserved part found, or undefined.
 */
function reservedKeyPart(key) {
    const parts = key.split(/(?<!\\)\.|\[\d*\]/).map((p) => p.replace(/\\\./g, '.').trim());
    return parts.find((p) => RESERVED_KEYS.includes(p));
}
/** A Kubernetes port name (IANA_SVC_NAME): 1–15 of a-z 0-9 -, a letter, no `--`, no `-` at an end. */
function isPortName(v) {
    return (v.length <= 15 &&
        /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(v) &&
        /[a-z]/.test(v) &&
        !v.includes('--'));
}
/** DNS-1123 label: what Kubernetes accepts as a namespace or Helm as a release name. */
function parseDnsLabel(raw, max = 53) {
    const t = raw.trim();
    if (t.length > max || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(t)) {
        throw new Invalid(`a DNS-1123 name: lower-case letters, digits and '-', starting and ending with a letter or digit, at most ${max} characters`);
    }
    return t;
}
/** Non-empty lines, trimmed; `#` starts a comment line. */
function parseLines(raw) {
    return raw
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'));
}
/** Comma or newline separated list. */
function parseList(raw) {
    return raw
        .split(/[,\n]/)
        .map((s) => s.trim())
        .filter((s) => s !== '');
}
/** `key=value` lines; the value may contain `=`. */
function parseKeyValues(raw) {
    return parseLines(raw).map((line, i) => {
        const at = line.indexOf('=');
        if (at <= 0)
            throw new Invalid(`'key=value' on every line, line ${i + 1} has no key=value`);
        const key = line.slice(0, at).trim();
        const reserved = reservedKeyPart(key);
        if (reserved !== undefined)
            throw new Invalid(`keys without '${reserved}' (${RESERVED_KEYS.join(', ')} are refused), line ${i + 1} has it`);
        return { key, value: line.slice(at + 1) };
    });
}
/**
 * Splits a string into words the way a POSIX shell would (quotes, backslashes), without
 * expanding anything. The words are passed as argv; no shell ever sees them.
 */
function splitArgs(raw) {
    const words = [];
    let word = '';
    let inWord = false;
    let quote = null;
    for (let i = 0; i < raw.length; i++) {
        const c = raw[i];
        if (quote === "'") {
            if (c === "'")
                quote = null;
            else
                word += c;
        }
        else if (quote === '"') {
            if (c === '"')
                quote = null;
            else if (c === '\\' && i + 1 < raw.length && '"\\$`\n'.includes(raw[i + 1])) {
                word += raw[++i];
            }
            else
                word += c;
        }
        else if (c === "'" || c === '"') {
            quote = c;
            inWord = true;
        }
        else if (c === '\\') {
            if (i + 1 < raw.length) {
                const next = raw[++i];
                if (next !== '\n') {
                    word += next;
                    inWord = true;
                }
            }
            else {
                throw new Invalid('arguments without a trailing backslash');
            }
        }
        else if (/\s/.test(c)) {
            if (inWord)
                words.push(word);
            word = '';
            inWord = false;
        }
        else {
            word += c;
            inWord = true;
        }
    }
    if (quote)
        throw new Invalid(`arguments with balanced quotes (an unclosed ${quote} was found)`);
    if (inWord)
        words.push(word);
    return words;
}
/** Minikube's --memory: megabytes, a size with a unit, or 'max' / 'no-limit'. Returns minikube's form. */
function parseMemory(raw) {
    const t = raw.trim().toLowerCase();
    if (t === 'max' || t === 'no-limit')
        return t;
    const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|m|mb|g|gb|t|tb|ki|kib|mi|mib|gi|gib)?$/.exec(t);
    if (!m)
        throw new Invalid(`megabytes (e.g. '4096'), a size with a unit ('4g', '8192mb') or 'max'`);
    const n = Number(m[1]);
    const unit = (m[2] ?? 'mb')[0];
    const mb = unit === 'b'
        ? n / 1e6
        : unit === 'k'
            ? n / 1e3
            : unit === 'm'
                ? n
                : unit === 'g'
                    ? n * 1024
                    : n * 1024 * 1024;
    if (mb < 1800)
        throw new Invalid(`at least 1800 MB (minikube refuses less; that is ${Math.round(mb)} MB)`);
    return m[2] ? `${m[1]}${m[2]}` : `${m[1]}mb`;
}
/** A Docker tag: letters, digits, `_`, `.`, `-`, not starting with `.` or `-`, at most 128. */
const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** One path component of an image name, as the distribution spec allows it. */
const PATH_PART = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A registry host: DNS labels (or `localhost`), an IPv4 address, or `[IPv6]`; then an optional port. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
/**
 * Where built images are pushed: `host[:port]` and an optional repository path
 * (`ghcr.io/acme/shop`, `127.0.0.1:5000`), without a scheme, tag, digest or trailing slash.
 * Each image becomes `<registry>/<name>:<tag>`, so a tag or digest here would be nonsense.
 */
function parseRegistry(raw) {
    const t = raw.trim();
    if (t === '')
        return '';
    const example = `e.g. 'ghcr.io/acme/shop' or '127.0.0.1:5000'`;
    if (/\s/.test(t))
        throw new Invalid(`a registry reference without spaces (${example})`);
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(t))
        throw new Invalid(`a registry reference without a scheme such as 'https://' (${example})`);
    if (t.includes('@'))
        throw new Invalid(`a registry reference without a digest: each image is pushed as <registry>/<name>:<tag> (${example})`);
    if (t.endsWith('/'))
        throw new Invalid(`a registry reference without a trailing '/' (${example})`);
    const [host = '', ...path] = t.split('/');
    if (host === '' || path.some((p) => p === ''))
        throw new Invalid(`a registry reference without empty parts ('//' or a leading '/') (${example})`);
    const last = path[path.length - 1];
    if (last !== undefined && last.includes(':'))
        throw new Invalid(`a registry reference without a tag: each image is pushed as <registry>/<name>:<tag> (${example})`);
    const hostMatch = HOST.exec(host);
    const port = hostMatch?.[1];
    if (!hostMatch || (port !== undefined && (Number(port) < 1 || Number(port) > 65535)))
        throw new Invalid(`a registry reference starting with a host name and optional port (${example})`);
    if (path.length > 0 && !/[.:[]/.test(host) && host !== 'localhost')
        throw new Invalid(`a registry reference starting with the registry's host ('docker.io/${t}', 'ghcr.io/${t}'); '${host}' is not a host name`);
    if (path.length === 0 && !/[.:[]/.test(host) && host !== 'localhost')
        throw new Invalid(`a registry reference with the registry's host (${example})`);
    for (const part of path) {
        if (/[A-Z]/.test(part))
            throw new Invalid(`a registry reference whose repository path is lower-case ('${part}' is not)`);
        if (!PATH_PART.test(part))
            throw new Invalid(`a registry reference whose path parts are lower-case letters and digits joined by '.', '_', '__' or '-' ('${part}' is not)`);
    }
    if (t.length > 200)
        throw new Invalid(`a registry reference of at most 200 characters`);
    return t;
}
/**
 * A URL template such as `https://pr-{number}.preview.example.com`: each `{name}` must be one of
 * `placeholders`, and with every placeholder filled in it must be an http(s) URL without a
 * user or password.
 */
function parseUrlTemplate(raw, placeholders) {
    const t = raw.trim();
    if (t === '')
        return '';
    const known = placeholders.map((p) => `{${p}}`).join(', ');
    const names = [...t.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]);
    const unknown = names.find((n) => !placeholders.includes(n));
    if (unknown !== undefined)
        throw new Invalid(`a URL template whose placeholders are ${known}; '{${unknown}}' is not one`);
    const filled = t.replace(/\{([^{}]*)\}/g, 'x');
    if (/[{}]/.test(filled))
        throw new Invalid(`a URL template whose braces are placeholders such as {number}; a '{' or '}' is unmatched`);
    let url;
    try {
        url = new URL(filled);
    }
    catch {
        throw new Invalid(`an http(s) URL template such as 'https://pr-{number}.preview.example.com'`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Invalid(`an http(s) URL template such as 'https://pr-{number}.preview.example.com'`);
    if (url.username || url.password)
        throw new Invalid(`a URL template without a user or password in it (it is shown to everyone)`, '');
    return t;
}

;// CONCATENATED MODULE: ./src/lifecycle/url.ts
/** The placeholders a `url` template may hold, written `{number}` etc. */
const URL_PLACEHOLDERS = ['number', 'branch', 'sha', 'namespace', 'release'];
const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN = URL_PLACEHOLDERS.map((p) => `{${p}}`).join(', ');
/**
 * What is wrong with a `url` template, or undefined when it is good: it is an `http://` or
 * `https://` URL whose every `{…}` is one of `URL_PLACEHOLDERS` and whose braces pair up.
 */
function urlTemplateProblem(template) {
    const unknown = [...template.matchAll(PLACEHOLDER)]
        .map((m) => m[1])
        .filter((name) => !URL_PLACEHOLDERS.includes(name));
    if (unknown.length > 0) {
        const names = [...new Set(unknown)].map((n) => `{${n}}`).join(', ');
        return `unknown placeholder${unknown.length > 1 ? 's' : ''} ${names}; the known ones are ${KNOWN}`;
    }
    if (/[{}]/.test(template.replace(PLACEHOLDER, ''))) {
        return `a '{' or '}' that is not part of a placeholder; the known ones are ${KNOWN}`;
    }
    if (!/^https?:\/\/[^/\s]/i.test(template) || /\s/.test(template)) {
        return "a URL that starts with 'http://' or 'https://' and holds no spaces";
    }
    return undefined;
}
/**
 * A value as it goes into the URL: lower case, every run of characters other than `a-z`, `0-9`
 * and `-` made one `-`, no `-` at either end, at most 63 characters. So `Feature/Login_v2`
 * becomes `feature-login-v2`: the same text is a valid DNS label in a host
 * (`https://{branch}.preview.example.com`) and needs no escaping in a path, and nothing a branch
 * name holds (`/`, `?`, `#`, `@`, `..`) can change which host or path the link points at.
 */
function urlSafe(value) {
    return value
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/-{2,}/g, '-')
        .slice(0, 63)
        .replace(/^-+|-+$/g, '');
}
/** The template with each placeholder replaced by its URL-safe value (see `urlSafe`). */
function renderUrl(template, values) {
    return template.replace(PLACEHOLDER, (whole, name) => URL_PLACEHOLDERS.includes(name)
        ? urlSafe(values[name])
        : whole);
}
// A host as an Ingress may name it, lower case; chart text is hostile, anything else is skipped.
const url_HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** Whether a `tls` entry's host (exact, or a `*.` wildcard one label deep) covers `host`. */
function covers(tlsHost, host) {
    const t = tlsHost.toLowerCase();
    if (t === host)
        return true;
    return t.startsWith('*.') && host.slice(host.indexOf('.') + 1) === t.slice(2);
}
/**
 * The default URL: the first host (not a wildcard) of the first Ingress of the manifest that has
 * one, `https://` when one of that Ingress's `tls` entries covers the host, else `http://`.
 * Undefined when no Ingress names a host.
 */
function ingressUrl(objects) {
    for (const o of objects) {
        if (o.kind !== 'Ingress' || !o.ingress)
            continue;
        const host = o.ingress.hosts.map((h) => h.trim().toLowerCase()).find((h) => url_HOST.test(h));
        if (!host)
            continue;
        const tls = o.ingress.tlsHosts.some((t) => covers(t, host));
        return `${tls ? 'https' : 'http'}://${host}/`;
    }
    return undefined;
}

;// CONCATENATED MODULE: ./src/inputs.ts
// The action's inputs, read once, typed and validated: every problem names the input and what was expected.






const CLUSTERS = ['minikube', 'existing'];
const CLEANUPS = ['auto', 'always', 'on-success', 'never'];
const DRIVERS = [
    'docker',
    'podman',
    'none',
    'ssh',
    'kvm2',
    'qemu2',
    'qemu',
    'virtualbox',
    'vmware',
    'parallels',
    'hyperkit',
    'hyperv',
    'vfkit',
    'krunkit'
];
const IMAGE_LOADS = ['load', 'docker-env'];
const COMMENTS = ['auto', 'always', 'never', 'on-failure'];
const HELM_TESTS = ['auto', 'true', 'false'];
const BUILD_CACHES = ['auto', 'gha', 'registry', 'local', 'none'];
const MODES = ['preview', 'sweep'];
/** The longest `stable-for`: a window, not a second wait-timeout. */
const STABLE_FOR_MAX_MS = 30 * 60_000;
/** Defaults of action.yml; an input read as '' falls back to these, so a local run behaves the same. */
const DEFAULTS = {
    cluster: 'minikube',
    'minikube-version': 'v1.39.0',
    'helm-version': 'v4.3.1',
    'kubectl-version': '',
    'minikube-base-url': 'https://github.com/kubernetes/minikube/releases/download',
    'helm-base-url': 'https://get.helm.sh',
    'kubectl-base-url': 'https://dl.k8s.io/release',
    'kubernetes-version': '',
    driver: 'docker',
    cpus: '2',
    memory: '4096',
    nodes: '1',
    addons: 'auto',
    'start-args': '',
    'cluster-timeout': '5m',
    'minikube-cache': 'true',
    cleanup: 'auto',
    images: '',
    'image-tag': '',
    'image-load': 'load',
    chart: '',
    release: '',
    namespace: '',
    'values-files': '',
    set: '',
    'set-string': '',
    'secret-values': '',
    'helm-args': '',
    'rollback-on-failure': 'false',
    'wait-timeout': '5m',
    'fail-fast': 'true',
    'stable-for': '10s',
    'health-checks': '',
    'helm-test': 'auto',
    'github-token': '',
    comment: 'auto',
    'comment-header': '',
    'job-summary': 'true',
    'diagnostics-artifact': 'true',
    'build-cache': 'auto',
    'build-cache-ref': '',
    builder: '',
    registry: '',
    'registry-username': '',
    'registry-password': '',
    'push-tags': '',
    url: '',
    environment: '',
    ttl: '',
    mode: 'preview'
};
/** All problems with the inputs, each naming the input, the value and what is accepted. */
class InputErrors extends Error {
    problems;
    constructor(problems) {
        super(problems.join('\n'));
        this.problems = problems;
        this.name = 'InputErrors';
    }
}
const IMAGE_KEYS = ['name', 'context', 'dockerfile', 'target', 'build-args', 'platform', 'values'];
const CHECK_KEYS = [
    'name',
    'service',
    'port',
    'ingress-host',
    'path',
    'expect-status',
    'expect-body'
];
function reader(read, workspace, problems) {
    const raw = (name) => {
        const v = read(name);
        return v.trim() === '' ? (DEFAULTS[name] ?? '') : v;
    };
    return {
        given: (name) => read(name).trim(),
        raw,
        field(name, parser, fallback, opts = {}) {
            const value = raw(name);
            try {
                return parser(value);
            }
            catch (err) {
                if (!(err instanceof Invalid))
                    throw err;
                const shown = opts.secret ? '' : (err.shown ?? value);
                problems.push(shown === ''
                    ? `input '${name}' must be ${err.message}`
                    : `input '${name}' must be ${err.message}, got '${shorten(shown)}'`);
                return fallback;
            }
        },
        path: (p) => ((0,external_node_path_.isAbsolute)(p) ? p : (0,external_node_path_.resolve)(workspace, p)),
        problem: (text) => problems.push(text)
    };
}
/**
 * Reads and validates every input. `read` returns the raw input ('' when unset);
 * `workspace` is where relative paths (contexts, chart, values files) are resolved.
 * Pure: nothing but `read` and the workspace's files is looked at (the event's defaults are
 * `discover.ts`'s). Throws InputErrors listing every problem, before anything has been started.
 */
function parseInputs(read, workspace) {
    const problems = [];
    const r = reader(read, workspace, problems);
    const inputs = {
        ...clusterInputs(r),
        ...toolInputs(r),
        ...imageInputs(r),
        ...chartInputs(r),
        ...verifyInputs(r),
        ...reportInputs(r, read),
        ...buildCacheInputs(r),
        ...previewInputs(r)
    };
    problems.push(...crossChecks(inputs));
    if (problems.length > 0)
        throw new InputErrors(problems);
    return inputs;
}
const timeout = durationBetween(1000, MAX_DURATION_MS);
function clusterInputs(r) {
    const cluster = r.field('cluster', (v) => parseChoice(v, CLUSTERS), 'minikube');
    const cpus = r.field('cpus', (v) => {
        const t = v.trim().toLowerCase();
        if (t === 'max' || t === 'no-limit')
            return t;
        if (!/^\d+$/.test(t) || Number(t) < 1)
            throw new Invalid(`a whole number of at least 1, or 'max'`);
        return t;
    }, '2');
    const addonsRaw = r.field('addons', parseList, []);
    const auto = addonsRaw.some((a) => a.toLowerCase() === 'auto');
    const names = addonsRaw.filter((a) => a.toLowerCase() !== 'auto');
    for (const a of names) {
        if (!/^[a-z0-9][a-z0-9-]*$/.test(a)) {
            r.problem(`input 'addons' must be a list of minikube addon names (or 'auto'), got '${shorten(a)}'`);
        }
    }
    return {
        cluster,
        kubernetesVersion: r.field('kubernetes-version', (v) => {
            const t = v.trim().toLowerCase();
            if (t === '' || t === 'stable' || t === 'latest')
                return t;
            return parseVersion(v);
        }, ''),
        driver: r.field('driver', (v) => parseChoice(v, DRIVERS), 'docker'),
        cpus,
        memory: r.field('memory', parseMemory, '4096mb'),
        nodes: r.field('nodes', parsePositiveInt, 1),
        addons: { auto, names },
        startArgs: r.field('start-args', splitArgs, []),
        clusterTimeoutMs: r.field('cluster-timeout', timeout, 300_000),
        minikubeCache: r.field('minikube-cache', parseBoolean, true),
        cleanup: r.field('cleanup', (v) => parseChoice(v, CLEANUPS), 'auto')
    };
}
function toolInputs(r) {
    return {
        minikubeVersion: r.field('minikube-version', (v) => parseVersion(v), 'latest'),
        helmVersion: r.field('helm-version', (v) => parseVersion(v), 'latest'),
        kubectlVersion: r.field('kubectl-version', (v) => parseVersion(v, true), ''),
        minikubeBaseUrl: r.field('minikube-base-url', parseBaseUrl, ''),
        helmBaseUrl: r.field('helm-base-url', parseBaseUrl, ''),
        kubectlBaseUrl: r.field('kubectl-base-url', parseBaseUrl, '')
    };
}
function parseImageTag(v) {
    const t = v.trim();
    if (t === '')
        return '';
    if (t === 'latest')
        throw new Invalid(`a tag other than 'latest' (a moving tag defeats caching and pull policies)`);
    if (!TAG_PATTERN.test(t))
        throw new Invalid('a Docker tag (letters, digits, _ . -; at most 128)');
    return t;
}
function imageInputs(r) {
    const imageTag = r.field('image-tag', parseImageTag, '');
    return {
        images: r.field('images', (v) => parseImages(v, r.path), []),
        imageTag,
        imageLoad: r.field('image-load', (v) => parseChoice(v, IMAGE_LOADS), 'load')
    };
}
function chartInputs(r) {
    const chart = r.field('chart', (v) => {
        const t = v.trim();
        if (t === '')
            return '';
        const file = (0,external_node_path_.join)(r.path(t), 'Chart.yaml');
        if (!(0,external_node_fs_.existsSync)(file))
            throw new Invalid('the path of a chart folder holding Chart.yaml');
        if (!(0,external_node_fs_.statSync)(file).isFile())
            throw new Invalid(`a chart folder whose Chart.yaml is a file; '${t}/Chart.yaml' is a folder`);
        return r.path(t);
    }, '');
    const valuesFiles = r.field('values-files', (v) => parseLines(v).map((f) => {
        if (!(0,external_node_fs_.existsSync)(r.path(f)))
            throw new Invalid(`a list of existing files; '${f}' does not exist`);
        if (!(0,external_node_fs_.statSync)(r.path(f)).isFile())
            throw new Invalid(`a list of files; '${f}' is a folder`);
        return r.path(f);
    }), []);
    return {
        chart,
        release: r.field('release', (v) => (v.trim() === '' ? '' : parseDnsLabel(v)), ''),
        // Empty in action.yml, so that a namespace given can be told from none (`pr-<number>`).
        namespace: r.field('namespace', (v) => (v.trim() === '' ? 'preview' : parseDnsLabel(v, 63)), 'preview'),
        namespaceGiven: r.given('namespace') !== '',
        valuesFiles,
        set: r.field('set', setLines, []),
        setString: r.field('set-string', setLines, []),
        secretValues: r.field('secret-values', parseKeyValues, [], { secret: true }),
        helmArgs: r.field('helm-args', splitArgs, []),
        rollbackOnFailure: r.field('rollback-on-failure', parseBoolean, false)
    };
}
/** `--set` lines: `key=value` on each, no key part reaching an object's prototype. */
function setLines(v) {
    return parseLines(v).map((line, i) => {
        const at = line.indexOf('=');
        if (at <= 0)
            throw new Invalid(`'key=value' on every line, line ${i + 1} has none`);
        // Every comma-separated assignment of the line (`a=1,b=2`) is a key helm sets.
        for (const part of line.split(/(?<!\\),/)) {
            const reserved = reservedKeyPart(part.slice(0, Math.max(0, part.indexOf('='))));
            if (reserved !== undefined)
                throw new Invalid(`keys without '${reserved}' (${RESERVED_KEYS.join(', ')} are refused), line ${i + 1} has it`, '');
        }
        return line;
    });
}
function verifyInputs(r) {
    return {
        waitTimeoutMs: r.field('wait-timeout', timeout, 300_000),
        failFast: r.field('fail-fast', parseBoolean, true),
        stableForMs: r.field('stable-for', durationBetween(0, STABLE_FOR_MAX_MS), 10_000),
        healthChecks: r.field('health-checks', parseHealthChecks, []),
        helmTest: r.field('helm-test', (v) => parseChoice(v, HELM_TESTS), 'auto')
    };
}
function reportInputs(r, read) {
    return {
        githubToken: read('github-token').trim(),
        comment: r.field('comment', (v) => parseChoice(v, COMMENTS), 'auto'),
        commentHeader: r.field('comment-header', parseCommentHeader, ''),
        jobSummary: r.field('job-summary', parseBoolean, true),
        diagnosticsArtifact: r.field('diagnostics-artifact', parseBoolean, true)
    };
}
/** The longest `ttl`: a preview nobody renews for a year is abandoned. */
const TTL_MAX_MS = 365 * 86_400_000;
/** The placeholders a `url` template may use, as names without braces. */
const PLACEHOLDER_NAMES = URL_PLACEHOLDERS.map((p) => p.replace(/[{}]/g, ''));
/** Registry, `push-tags`, `url`, `environment`, `ttl` and `mode`: the preview beyond the job. */
function previewInputs(r) {
    const ttl = r.raw('ttl').trim();
    return {
        registry: r.field('registry', parseRegistry, ''),
        registryUsername: r.field('registry-username', oneLine('a user name'), ''),
        registryPassword: r.field('registry-password', oneLine('a password'), '', { secret: true }),
        pushTags: r.field('push-tags', parsePushTags, []),
        url: r.field('url', (v) => parseUrlTemplate(v, PLACEHOLDER_NAMES), ''),
        environment: r.field('environment', parseEnvironment, ''),
        ttlMs: ttl === ''
            ? undefined
            : r.field('ttl', (v) => parseDuration(v, { minMs: 60_000, maxMs: TTL_MAX_MS, days: true }), undefined),
        mode: r.field('mode', (v) => parseChoice(v, MODES), 'preview')
    };
}
function oneLine(what) {
    return (v) => {
        const t = v.trim();
        if (/[\r\n]/.test(t))
            throw new Invalid(`${what} on one line`, '');
        return t;
    };
}
/** `push-tags`: a newline (or comma) list of Docker tags; `latest` is fine here, it is a promotion. */
function parsePushTags(v) {
    const tags = parseList(v);
    for (const tag of tags) {
        if (!TAG_PATTERN.test(tag))
            throw new Invalid(`a list of Docker tags (letters, digits, _ . -, not starting with . or -, at most 128); '${shorten(tag)}' is not one`, '');
    }
    return [...new Set(tags)];
}
/** A GitHub environment name: one line of at most 255 characters. */
function parseEnvironment(v) {
    const t = v.trim();
    if (t.length > 255)
        throw new Invalid(`a GitHub environment name of at most 255 characters; it has ${t.length}`, '');
    if ([...t].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
        throw new Invalid('a GitHub environment name on one line');
    return t;
}
/**
 * `docker login` needs both a user and a password; for `ghcr.io` they default to the actor and
 * `github-token` (`discover.ts`), so only what no default fills in is asked for.
 */
function loginChecks(i) {
    const user = i.registryUsername !== '';
    const password = i.registryPassword !== '';
    if (!user && !password)
        return [];
    if (!i.registry) {
        const given = user ? 'registry-username' : 'registry-password';
        return [
            `input '${given}' needs input 'registry': it is the login to the registry images are pushed to`
        ];
    }
    const ghcr = i.registry.split('/')[0]?.toLowerCase() === 'ghcr.io';
    if (user && !password && !(ghcr && i.githubToken))
        return [`input 'registry-username' needs input 'registry-password': docker login takes both`];
    if (password && !user && !ghcr)
        return [`input 'registry-password' needs input 'registry-username': docker login takes both`];
    return [];
}
/**
 * Inputs that are valid but do nothing in this combination: warned about, never refused (one
 * workflow may serve a minikube job and a shared-cluster job with the same inputs).
 */
function unusedInputs(i) {
    const notes = [];
    if (i.cluster === 'minikube' && i.ttlMs !== undefined)
        notes.push(`input 'ttl' has no effect with 'cluster: minikube': the cluster goes with the job; an expiry is written on previews with 'cluster: existing'`);
    return notes;
}
/** Problems no single input has: inputs that need or exclude each other. */
function crossChecks(i) {
    const problems = [];
    if (i.cluster === 'existing' && i.imageLoad === 'load' && i.images.length > 0 && !i.registry) {
        // An existing cluster has no `minikube image load`: its nodes pull the images from a registry.
        problems.push(`input 'images' with 'cluster: existing' needs input 'registry': the images built on the runner are pushed there for the cluster to pull (e.g. 'registry: ghcr.io/<owner>/<repository>')`);
    }
    if (i.mode === 'sweep' && i.cluster === 'minikube') {
        problems.push(`input 'mode: sweep' needs 'cluster: existing': it removes expired previews from a shared cluster, and a minikube cluster lives only as long as its job`);
    }
    problems.push(...loginChecks(i));
    if (i.pushTags.length > 0 && !i.registry) {
        problems.push(`input 'push-tags' needs input 'registry': the tags are put on the images pushed there`);
    }
    return problems;
}
/** `build-cache`, `build-cache-ref` and `builder`, checked together: the ref only means something for two of the caches. */
function buildCacheInputs(r) {
    let buildCache = 'auto';
    const cacheRaw = r.raw('build-cache');
    try {
        buildCache = parseChoice(cacheRaw, BUILD_CACHES);
    }
    catch (err) {
        if (!(err instanceof Invalid))
            throw err;
        r.problem(`input 'build-cache' must be ${err.message}, got '${shorten(cacheRaw)}'`);
    }
    const ref = r.raw('build-cache-ref').trim();
    let buildCacheRef = '';
    if ((buildCache === 'registry' || buildCache === 'local') && ref === '') {
        r.problem(buildCache === 'registry'
            ? `input 'build-cache: registry' needs input 'build-cache-ref': the cache image repository, e.g. 'ghcr.io/octo/app-cache'`
            : `input 'build-cache: local' needs input 'build-cache-ref': the folder that holds the cache, e.g. '/tmp/build-cache'`);
    }
    else if (buildCache === 'registry') {
        const last = ref.split('/').pop() ?? '';
        if (/[@:]/.test(last)) {
            r.problem(`input 'build-cache-ref' must be a repository without a tag or digest (each image's cache is tagged with its name), got '${shorten(ref)}'`);
        }
        else if (!/^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(ref)) {
            r.problem(`input 'build-cache-ref' must be an image repository such as 'ghcr.io/octo/app-cache', got '${shorten(ref)}'`);
        }
        else
            buildCacheRef = ref;
    }
    else if (buildCache === 'local') {
        // The folder goes into BuildKit's comma-separated cache option: a comma or quote would split it.
        if (/[,"'\r\n]/.test(ref)) {
            r.problem(`input 'build-cache-ref' must be a folder path without commas, quotes or line breaks, got '${shorten(ref)}'`);
        }
        else
            buildCacheRef = r.path(ref);
    }
    else {
        // Unused by this cache; kept so the build can say it is ignored.
        buildCacheRef = ref;
    }
    const builder = r.raw('builder').trim();
    if (builder !== '' && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(builder)) {
        r.problem(`input 'builder' must be the name of a buildx builder (letters, digits, _ . -), got '${shorten(builder)}'`);
    }
    return { buildCache, buildCacheRef, builder };
}
/** The longest `comment-header`: it names the run's folder and the comment's marker. */
const MAX_HEADER = 100;
function parseCommentHeader(v) {
    const t = v.trim();
    if (t.length > MAX_HEADER)
        throw new Invalid(`at most ${MAX_HEADER} characters; it has ${t.length}`, '');
    if ([...t].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
        throw new Invalid('one line of text');
    return t;
}
function shorten(v) {
    // Redacted before it is squeezed or cut: a cut must never leave part of a secret.
    const one = redact(v).replace(/\s+/g, ' ').trim();
    return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}
function yamlList(raw, what) {
    if (raw.trim() === '')
        return [];
    let doc;
    try {
        doc = (0,dist/* parse */.qg)(raw);
    }
    catch (err) {
        const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
        throw new Invalid(`a YAML list of ${what} (${msg})`);
    }
    if (doc === null || doc === undefined)
        return [];
    if (!Array.isArray(doc))
        throw new Invalid(`a YAML list of ${what}`);
    return doc;
}
function entry(item, i, allowed) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        throw new Invalid(`a list of mappings; entry ${i + 1} is not a mapping`);
    }
    const obj = item;
    const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
    if (unknown.length > 0) {
        throw new Invalid(`entries with keys ${allowed.join(', ')}; entry ${i + 1} has unknown key '${unknown[0]}'`);
    }
    return obj;
}
function str(obj, key, i) {
    const v = obj[key];
    if (v === undefined || v === null)
        return undefined;
    if (typeof v === 'object')
        throw new Invalid(`a text value for '${key}'; entry ${i + 1} has a ${Array.isArray(v) ? 'list' : 'mapping'}`);
    return String(v);
}
/** How an image is named in step ids (`build-todo-api`): two images must not share one. */
function imageSlug(name) {
    return name.replace(/[^a-z0-9]+/g, '-');
}
function parseImages(raw, path) {
    const names = new Set();
    const slugs = new Map();
    return yamlList(raw, 'images (name, context, dockerfile, target, build-args, platform, values)').map((item, i) => {
        const obj = entry(item, i, IMAGE_KEYS);
        const name = str(obj, 'name', i);
        if (!name)
            throw new Invalid(`an image list whose entries have a 'name'; entry ${i + 1} has none`);
        if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(name)) {
            throw new Invalid(`image names Docker accepts (lower-case, digits, . _ - /); '${name}' is not one`);
        }
        if (names.has(name))
            throw new Invalid(`distinct image names; '${name}' appears twice`);
        names.add(name);
        const other = slugs.get(imageSlug(name));
        if (other !== undefined) {
            throw new Invalid(`image names that stay distinct when . _ / become '-'; '${other}' and '${name}' are both '${imageSlug(name)}'`);
        }
        slugs.set(imageSlug(name), name);
        const context = str(obj, 'context', i);
        if (!context)
            throw new Invalid(`an image list whose entries have a 'context'; '${name}' has none`);
        const ctx = path(context);
        if (!(0,external_node_fs_.existsSync)(ctx) || !(0,external_node_fs_.statSync)(ctx).isDirectory()) {
            throw new Invalid(`an existing folder as the 'context' of '${name}'; '${context}' does not exist`);
        }
        const df = str(obj, 'dockerfile', i);
        const dockerfile = df ? ((0,external_node_path_.isAbsolute)(df) ? df : (0,external_node_path_.resolve)(ctx, df)) : (0,external_node_path_.join)(ctx, 'Dockerfile');
        if (!(0,external_node_fs_.existsSync)(dockerfile)) {
            throw new Invalid(`an existing Dockerfile for '${name}'; ${df ? `'${df}'` : `'${context}/Dockerfile'`} does not exist`);
        }
        if (!(0,external_node_fs_.statSync)(dockerfile).isFile()) {
            throw new Invalid(`a Dockerfile for '${name}' that is a file; ${df ? `'${df}'` : `'${context}/Dockerfile'`} is a folder`);
        }
        const values = str(obj, 'values', i);
        if (values !== undefined && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(values)) {
            throw new Invalid(`a dot path such as 'backend.image' for 'values' of '${name}'; got '${values}'`);
        }
        return {
            name,
            context: ctx,
            dockerfile,
            target: str(obj, 'target', i),
            buildArgs: inputs_buildArgs(obj['build-args'], name),
            platform: str(obj, 'platform', i),
            values
        };
    });
}
/** A build-arg value as docker gets it: text, a number or a boolean; never a list or a mapping. */
function scalar(v, what) {
    if (v === null || v === undefined)
        return '';
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        return String(v);
    throw new Invalid(`${what} as text, a number or true/false; it is a ${Array.isArray(v) ? 'list' : 'mapping'}`);
}
function inputs_buildArgs(v, name) {
    if (v === undefined || v === null)
        return [];
    if (Array.isArray(v)) {
        return v.map((line, i) => {
            if (line === null || typeof line === 'object')
                throw new Invalid(`'build-args' of '${name}' as KEY=value lines or a mapping; line ${i + 1} is not a line of text`);
            const s = String(line);
            const at = s.indexOf('=');
            if (at <= 0)
                throw new Invalid(`'build-args' of '${name}' as KEY=value lines or a mapping; '${s}' has no '='`);
            return { key: s.slice(0, at), value: s.slice(at + 1) };
        });
    }
    if (typeof v === 'object') {
        return Object.entries(v).map(([key, value]) => ({
            key,
            value: scalar(value, `'build-args' ${key} of '${name}'`)
        }));
    }
    if (typeof v === 'string')
        return parseKeyValues(v);
    throw new Invalid(`'build-args' of '${name}' as KEY=value lines or a mapping`);
}
function parseHealthChecks(raw) {
    return yamlList(raw, 'health checks ({service, port, path} or {ingress-host, path})').map((item, i) => {
        const obj = entry(item, i, CHECK_KEYS);
        const service = str(obj, 'service', i);
        const ingressHost = str(obj, 'ingress-host', i);
        if (!service && !ingressHost) {
            throw new Invalid(`health checks with a 'service' or an 'ingress-host'; entry ${i + 1} has neither`);
        }
        if (service && ingressHost) {
            throw new Invalid(`health checks with a 'service' or an 'ingress-host', not both; entry ${i + 1} has both`);
        }
        let port;
        const rawPort = obj['port'];
        if (service) {
            try {
                parseDnsLabel(service, 63);
            }
            catch (err) {
                if (!(err instanceof Invalid))
                    throw err;
                throw new Invalid(`a Service name for 'service' (${err.message}); entry ${i + 1} has '${service}'`);
            }
            if (rawPort === undefined || rawPort === null || rawPort === '') {
                throw new Invalid(`a 'port' for every service check; entry ${i + 1} ('${service}') has none`);
            }
            if (typeof rawPort === 'object')
                throw new Invalid(`a port number (1-65535) or port name for 'port'; entry ${i + 1} has a ${Array.isArray(rawPort) ? 'list' : 'mapping'}`);
            const text = String(rawPort).trim();
            port = /^\d+$/.test(text) ? Number(text) : text;
            if (typeof port === 'number' && (port < 1 || port > 65535)) {
                throw new Invalid(`a port between 1 and 65535; entry ${i + 1} has ${port}`);
            }
            if (typeof port === 'string' && !isPortName(port)) {
                throw new Invalid(`a port number (1-65535) or a port name (at most 15 of a-z, 0-9 and '-', with a letter) for 'port'; entry ${i + 1} has '${port}'`);
            }
        }
        const path = str(obj, 'path', i) ?? '/';
        if (!path.startsWith('/'))
            throw new Invalid(`a 'path' starting with '/'; entry ${i + 1} has '${path}'`);
        const statusRaw = str(obj, 'expect-status', i) ?? '200';
        if (!/^[1-5]\d\d$/.test(statusRaw)) {
            throw new Invalid(`an HTTP status such as 200 for 'expect-status'; entry ${i + 1} has '${statusRaw}'`);
        }
        const target = service ? `${service}:${port}` : ingressHost;
        return {
            label: str(obj, 'name', i) ?? `${target}${path}`,
            service,
            port,
            ingressHost,
            path,
            expectStatus: Number(statusRaw),
            expectBody: str(obj, 'expect-body', i)
        };
    });
}

;// CONCATENATED MODULE: ./src/model.ts
// The model at the bottom: the record of a run (a pure projection of the finished run;
// renderers are pure functions of it) and the parts of Kubernetes objects the code reads. Imports nothing of ours.
/** The events that are about a pull request (its number, head and action are in the payload). */
function isPullRequestEvent(event) {
    return event === 'pull_request' || event === 'pull_request_target';
}
function newReport(now) {
    return {
        version: 1,
        status: 'error',
        startedAt: now,
        tools: [],
        images: [],
        workloads: [],
        healthChecks: [],
        steps: []
    };
}
/** Whether the release was deployed (the deploy step succeeded). */
function wasDeployed(report) {
    return report.steps.some((s) => s.id === 'deploy' && s.status === 'success');
}
/** Whether what was deployed shows anything wrong: a workload, a health check, helm test. */
function releaseTroubled(report) {
    return (report.workloads.some((w) => w.state !== 'healthy') ||
        report.healthChecks.some((c) => !c.ok) ||
        (report.helmTest !== undefined && !report.helmTest.passed));
}
/**
 * The outcome: `error` when a step failed before the release was deployed,
 * `unhealthy` when it was deployed but is not healthy, `healthy` otherwise. A teardown or a
 * sweep is `removed` or `swept` unless one of its steps failed (`error`).
 */
function decideStatus(report) {
    const mode = report.preview?.mode;
    if (mode === 'teardown' || mode === 'sweep') {
        if (report.steps.some((s) => s.status === 'failure'))
            return 'error';
        return mode === 'teardown' ? 'removed' : 'swept';
    }
    const deployed = wasDeployed(report);
    if (deployed && releaseTroubled(report))
        return 'unhealthy';
    if (report.steps.some((s) => s.status === 'failure'))
        return deployed ? 'unhealthy' : 'error';
    return 'healthy';
}

;// CONCATENATED MODULE: ./src/discover.ts
// What is found around the inputs: the chart, the release name, the image tag, the comment header, and the defaults the event sets.






/**
 * The chart's Chart.yaml, as far as this action reads it. Throws Invalid saying what is wrong
 * with the file (named as `where`), never a raw parser or file-system error.
 */
function readChart(dir, where = (0,external_node_path_.join)(dir, 'Chart.yaml')) {
    const file = (0,external_node_path_.join)(dir, 'Chart.yaml');
    if (!(0,external_node_fs_.existsSync)(file))
        throw new Invalid(`a chart folder holding Chart.yaml; ${where} does not exist`);
    if (!(0,external_node_fs_.statSync)(file).isFile())
        throw new Invalid(`a chart whose ${where} is a file; it is a folder`);
    let doc;
    try {
        doc = (0,dist/* parse */.qg)((0,external_node_fs_.readFileSync)(file, 'utf8'));
    }
    catch (err) {
        // The parser's first line says where (line, column); the rest quotes the file.
        const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : '';
        throw new Invalid(`a chart whose ${where} is YAML; it is not (${why.slice(0, 160)})`);
    }
    if (doc === null || doc === undefined)
        return {};
    if (typeof doc !== 'object' || Array.isArray(doc))
        throw new Invalid(`a chart whose ${where} is a YAML mapping; it is a ${Array.isArray(doc) ? 'list' : 'single value'}`);
    const chart = doc;
    for (const key of ['name', 'version']) {
        const v = chart[key];
        if (v !== undefined && v !== null && typeof v !== 'string')
            throw new Invalid(`a chart whose ${where} has a text '${key}'; it is ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `the ${typeof v} ${String(v)}`} (quote it)`);
    }
    const deps = chart['dependencies'];
    if (deps !== undefined && deps !== null && !Array.isArray(deps))
        throw new Invalid(`a chart whose ${where} has a list of 'dependencies'; it is not a list`);
    return {
        name: typeof chart['name'] === 'string' ? chart['name'] : undefined,
        version: typeof chart['version'] === 'string' ? chart['version'] : undefined,
        dependencies: Array.isArray(deps) ? deps : undefined
    };
}
/** `charts/<one>/Chart.yaml` when there is exactly one. */
function findChart(workspace) {
    const root = (0,external_node_path_.join)(workspace, 'charts');
    if (!(0,external_node_fs_.existsSync)(root) || !(0,external_node_fs_.statSync)(root).isDirectory())
        return [];
    return (0,external_node_fs_.readdirSync)(root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && (0,external_node_fs_.existsSync)((0,external_node_path_.join)(root, d.name, 'Chart.yaml')))
        .map((d) => (0,external_node_path_.join)(root, d.name))
        .sort();
}
/**
 * Completes the inputs with what the workspace and the commit tell: the chart, the release
 * name, the image tag and the comment header. Throws InputErrors naming the input to set.
 */
function discover(inputs, workspace, commit) {
    const problems = [];
    let chart = inputs.chart || undefined;
    if (!chart) {
        const found = findChart(workspace);
        if (found.length === 1)
            chart = found[0];
        if (found.length > 1) {
            problems.push(`input 'chart' must be set: several charts were found (${found.map((c) => `charts/${(0,external_node_path_.basename)(c)}`).join(', ')})`);
        }
    }
    let meta;
    if (chart) {
        try {
            meta = readChart(chart, (0,external_node_path_.relative)(workspace, (0,external_node_path_.join)(chart, 'Chart.yaml')) || 'Chart.yaml');
        }
        catch (err) {
            if (!(err instanceof Invalid))
                throw err;
            problems.push(`input 'chart' must be ${err.message}`);
            throw new InputErrors(problems);
        }
    }
    let release = inputs.release || undefined;
    if (chart && !release) {
        const name = meta?.name?.trim() || (0,external_node_path_.basename)(chart);
        try {
            release = parseDnsLabel(name);
        }
        catch (err) {
            if (!(err instanceof Invalid))
                throw err;
            problems.push(`input 'release' must be set: the chart name '${name}' is not a valid release name (${err.message})`);
        }
    }
    let imageTag = inputs.imageTag;
    if (!imageTag && inputs.images.length > 0) {
        if (commit && /^[0-9a-f]{7,}$/i.test(commit))
            imageTag = `sha-${commit.slice(0, 7).toLowerCase()}`;
        else
            problems.push(`input 'image-tag' must be set: the commit is not known (GITHUB_SHA is empty)`);
    }
    if (inputs.images.some((i) => i.values) && !chart) {
        problems.push(`input 'images' sets chart values, but no chart was given or found: set input 'chart'`);
    }
    if (problems.length > 0)
        throw new InputErrors(problems);
    return {
        chart,
        chartName: meta?.name,
        chartVersion: meta?.version,
        chartHasDependencies: Array.isArray(meta?.dependencies) && (meta?.dependencies?.length ?? 0) > 0,
        release,
        imageTag,
        commit,
        commentHeader: inputs.commentHeader || defaultCommentHeader(release, inputs.namespace)
    };
}
/** The comment's header when input `comment-header` is empty: `<release>/<namespace>`. */
function defaultCommentHeader(release, namespace) {
    return release ? `${release}/${namespace}` : `minikube/${namespace}`;
}
/**
 * The inputs with the defaults that depend on the event: with `cluster: existing` on a pull
 * request and no `namespace` input, the namespace `pr-<number>`; for a `ghcr.io` registry, the
 * actor and `github-token` as its user and password when those are not given.
 */
function withEventDefaults(inputs, run) {
    const out = { ...inputs };
    if (inputs.cluster === 'existing' &&
        !inputs.namespaceGiven &&
        isPullRequestEvent(run.event) &&
        run.pullRequest !== undefined)
        out.namespace = `pr-${run.pullRequest}`;
    if (inputs.registry.split('/')[0]?.toLowerCase() === 'ghcr.io') {
        out.registryUsername ||= (run.actor ?? '').trim();
        out.registryPassword ||= inputs.githubToken;
    }
    return out;
}

;// CONCATENATED MODULE: ./src/deploy/values.ts
// The values helm is given that are not a file of the user's: the secret values document.


/** `a.b.c=v` lines → a nested values document. */
function secretValuesDocument(pairs) {
    // Objects without a prototype: no key, however named, can reach Object.prototype.
    const doc = Object.create(null);
    for (const { key, value } of pairs) {
        const parts = key.split('.');
        let at = doc;
        for (const p of parts.slice(0, -1)) {
            if (!Object.hasOwn(at, p) || typeof at[p] !== 'object' || at[p] === null)
                at[p] = Object.create(null);
            at = at[p];
        }
        at[parts[parts.length - 1]] = value;
    }
    return doc;
}
/** Masks every secret value at once, so no later log line can show it. */
function maskSecrets(pairs) {
    for (const { value } of pairs) {
        core/* setSecret */.Pq(value);
        registerSecret(value);
    }
}

;// CONCATENATED MODULE: ./src/plan.ts


/** Minikube's default Kubernetes version, for the minikube versions this action pins or knows. */
const MINIKUBE_DEFAULT_KUBERNETES = {
    'v1.39.0': 'v1.37.0',
    'v1.38.1': 'v1.35.0',
    'v1.38.0': 'v1.35.0'
};
/**
 * The kubectl version to install, or undefined when it can only be known once the cluster
 * runs (then kubectl is installed after the cluster starts).
 */
function kubectlVersionFor(inputs) {
    if (inputs.kubectlVersion)
        return inputs.kubectlVersion;
    if (inputs.cluster === 'existing')
        return DEFAULT_KUBECTL;
    if (/^v\d/.test(inputs.kubernetesVersion))
        return inputs.kubernetesVersion;
    if (inputs.kubernetesVersion === '')
        return MINIKUBE_DEFAULT_KUBERNETES[inputs.minikubeVersion];
    return undefined;
}
/** kubectl to ask an existing cluster its version; one of that version replaces it (stages/install.ts). */
const DEFAULT_KUBECTL = 'v1.37.0';
const id = {
    install: (tool) => `install-${tool}`,
    build: (image) => `build-${image.name.replace(/[^a-z0-9]+/g, '-')}`,
    load: (image) => `load-${image.name.replace(/[^a-z0-9]+/g, '-')}`,
    push: (image) => `push-${image.name.replace(/[^a-z0-9]+/g, '-')}`
};
/**
 * When the built images go to `registry`: an existing cluster pulls them from it, so each build
 * pushes (`at-build`, nothing is loaded); on minikube they are loaded as ever, and pushed once
 * the preview is healthy (`when-healthy`). Undefined: no registry, or no images.
 */
function registryPush(inputs) {
    if (inputs.registry === '' || inputs.images.length === 0)
        return undefined;
    return inputs.cluster === 'existing' ? 'at-build' : 'when-healthy';
}
/**
 * What this run does: `mode: sweep` sweeps; a closed pull request (merged or not) takes its
 * preview down; anything else deploys one.
 */
function runMode(inputs, facts) {
    if (inputs.mode === 'sweep')
        return 'sweep';
    if (isPullRequestEvent(facts.event) && facts.eventAction === 'closed')
        return 'teardown';
    return 'preview';
}
/**
 * The run as a graph, one row per step in the order the report lists them: every step names
 * the steps it needs. The scheduler starts each step as soon as its needs succeeded, so installs
 * run together and image builds overlap the cluster start.
 */
function planRows(inputs, found, mode = 'preview') {
    if (mode !== 'preview')
        return lifecycleRows(inputs, found, mode);
    const minikube = inputs.cluster === 'minikube';
    const deploying = found.chart !== undefined;
    const kubectlAfterCluster = kubectlVersionFor(inputs) === undefined;
    const deps = deploying && found.chartHasDependencies;
    const autoIngress = inputs.addons.auto && deploying;
    // Built against the cluster's Docker with docker-env; otherwise while the cluster starts.
    const dockerEnv = inputs.imageLoad === 'docker-env';
    const push = registryPush(inputs);
    const registry = push !== undefined;
    // Neither user nor password: a registry that takes anonymous pushes, no login.
    const login = registry && (inputs.registryUsername !== '' || inputs.registryPassword !== '');
    const pushAtBuild = push === 'at-build';
    const pushWhenHealthy = push === 'when-healthy';
    const verified = deploying ? VERIFICATION : [];
    const images = inputs.images.flatMap((image) => [
        {
            id: id.build(image),
            title: `Build ${image.name}`,
            needs: [...(dockerEnv ? ['cluster'] : []), ...(pushAtBuild ? ['registry-login'] : [])],
            when: true,
            stage: { kind: 'build', image }
        },
        {
            id: id.load(image),
            title: `Load ${image.name}`,
            needs: [id.build(image), 'cluster'],
            when: minikube && !dockerEnv,
            stage: { kind: 'load', image }
        }
    ]);
    const delivered = (image) => minikube && !dockerEnv ? id.load(image) : id.build(image);
    const pushes = inputs.images.map((image) => ({
        id: id.push(image),
        title: `Push ${image.name}`,
        needs: [...verified, delivered(image), 'registry-login'],
        when: pushWhenHealthy,
        stage: { kind: 'push', image }
    }));
    const environment = inputs.environment !== '' && deploying;
    const ready = [
        'cluster',
        'namespace',
        'install-helm',
        'install-kubectl',
        'helm-deps',
        'addons',
        ...inputs.images.map(delivered)
    ];
    // prettier-ignore
    return [
        { id: 'install-helm', title: 'Install helm', needs: [], when: true, stage: { kind: 'install', tool: 'helm' } },
        { id: 'install-minikube', title: 'Install minikube', needs: [], when: minikube, stage: { kind: 'install', tool: 'minikube' } },
        { id: 'cache-restore', title: 'Restore minikube cache', needs: [], when: minikube && inputs.minikubeCache, stage: { kind: 'cache-restore' } },
        { id: 'install-kubectl', title: 'Install kubectl', needs: [], when: !kubectlAfterCluster, stage: { kind: 'install', tool: 'kubectl' } },
        { id: 'cluster', title: minikube ? 'Start minikube' : 'Connect to the cluster', needs: minikube ? ['install-minikube', 'cache-restore'] : ['install-kubectl'], when: true, stage: { kind: 'cluster' } },
        // Of the cluster's own Kubernetes version, when only the running cluster can say it.
        { id: 'install-kubectl', title: 'Install kubectl', needs: ['cluster'], when: kubectlAfterCluster, stage: { kind: 'install', tool: 'kubectl' } },
        { id: 'helm-deps', title: 'Build chart dependencies', needs: ['install-helm'], when: deps, stage: { kind: 'helm-deps' } },
        { id: 'render', title: 'Render the chart', needs: [deps ? 'helm-deps' : 'install-helm'], when: minikube && autoIngress, stage: { kind: 'render' } },
        { id: 'addons', title: 'Enable addons', needs: ['cluster', 'render'], when: minikube && (inputs.addons.names.length > 0 || autoIngress), stage: { kind: 'addons' } },
        { id: 'registry-login', title: 'Log in to the registry', needs: [], when: login, stage: { kind: 'registry-login' } },
        ...images,
        // On a shared cluster: the namespace made (or found) and labelled before helm deploys into it.
        { id: 'namespace', title: 'Prepare the namespace', needs: ['cluster', 'install-kubectl'], when: !minikube && deploying, stage: { kind: 'namespace' } },
        { id: 'deployment-start', title: 'Start the GitHub deployment', needs: [], when: environment, stage: { kind: 'deployment-start' } },
        { id: 'deploy', title: 'Deploy with helm', needs: ready, when: deploying, stage: { kind: 'deploy' } },
        { id: 'verify', title: 'Verify workloads', needs: ['deploy'], when: deploying, stage: { kind: 'verify' } },
        // Once the rollout has completed, the window, the health checks and helm test run together:
        // a healthy run pays the window once. The verdict is healthy only if all of them succeed.
        { id: 'stable', title: `Stay healthy for ${formatMs(inputs.stableForMs)}`, needs: ['verify'], when: deploying && inputs.stableForMs > 0, stage: { kind: 'stable' } },
        { id: 'health-checks', title: 'Health checks', needs: ['verify'], when: deploying && inputs.healthChecks.length > 0, stage: { kind: 'health-checks' } },
        { id: 'helm-test', title: 'Helm test', needs: ['verify'], when: deploying && inputs.helmTest !== 'false', stage: { kind: 'helm-test' } },
        // The preview's URL answers, unless health checks say what to check (none found: not a step).
        { id: 'url-check', title: 'Check the preview URL', needs: ['verify'], when: deploying && inputs.healthChecks.length === 0 && (inputs.url !== '' || !minikube), stage: { kind: 'url-check' } },
        // Runs whatever happened before it: it collects only when something failed.
        { id: 'diagnostics', title: 'Collect diagnostics', needs: deploying ? VERIFICATION : ready, when: true, always: true, stage: { kind: 'diagnostics' } },
        { id: 'rollback', title: 'Roll back', needs: ['diagnostics'], when: deploying && inputs.rollbackOnFailure, always: true, stage: { kind: 'rollback' } },
        ...pushes,
        // Verify, then promote: a failed verification skips it, so a tag never moves to an unhealthy image.
        { id: 'promote', title: 'Tag the pushed images', needs: [...verified, 'registry-login', ...inputs.images.map(pushAtBuild ? id.build : id.push)], when: registry && inputs.pushTags.length > 0, stage: { kind: 'promote' } },
        // success or failure, so it waits for everything that decides which, pushes and tags included.
        { id: 'deployment-finish', title: 'Finish the GitHub deployment', needs: ['deployment-start', 'rollback', ...VERIFICATION, ...pushes.map((p) => p.id), 'promote'], when: environment, always: true, stage: { kind: 'deployment-finish' } }
    ];
}
/** The steps after the rollout whose success makes the preview healthy. */
const VERIFICATION = ['verify', 'stable', 'health-checks', 'helm-test', 'url-check'];
/**
 * A closed pull request's teardown (nothing built or started: on a shared cluster the release
 * and the namespace the action created go; the deployments and the comment say so), or a sweep.
 */
function lifecycleRows(inputs, found, mode) {
    const shared = inputs.cluster === 'existing';
    // prettier-ignore
    return [
        { id: 'install-helm', title: 'Install helm', needs: [], when: shared, stage: { kind: 'install', tool: 'helm' } },
        { id: 'install-kubectl', title: 'Install kubectl', needs: [], when: shared, stage: { kind: 'install', tool: 'kubectl' } },
        { id: 'cluster', title: 'Connect to the cluster', needs: ['install-kubectl'], when: shared, stage: { kind: 'cluster' } },
        { id: 'teardown', title: 'Remove the preview', needs: ['cluster', 'install-helm'], when: mode === 'teardown' && shared, stage: { kind: 'teardown' } },
        { id: 'deactivate', title: 'Mark the GitHub deployments inactive', needs: [], when: mode === 'teardown' && inputs.environment !== '' && found.release !== undefined, stage: { kind: 'deactivate' } },
        { id: 'sweep', title: 'Remove expired and closed previews', needs: ['cluster', 'install-helm'], when: mode === 'sweep', stage: { kind: 'sweep' } }
    ];
}
/** The steps of this run: the rows it has, each needing only steps it has. */
function buildPlan(inputs, found, mode = 'preview') {
    const rows = planRows(inputs, found, mode);
    const known = new Set(rows.map((r) => r.id));
    const present = new Set(rows.filter((r) => r.when).map((r) => r.id));
    return rows
        .filter((r) => r.when)
        .map((r) => {
        // A need no row has is a typo in the table, not a step this run happens to lack.
        const unknown = r.needs.find((n) => !known.has(n));
        if (unknown)
            throw new Error(`step '${r.id}' needs unknown step '${unknown}'`);
        const step = {
            id: r.id,
            title: r.title,
            needs: [...new Set(r.needs.filter((n) => present.has(n)))],
            action: r.stage
        };
        if (r.always)
            step.always = true;
        return step;
    });
}

;// CONCATENATED MODULE: ./src/report/github.ts


const DEFAULT_API_URL = 'https://api.github.com';
const github_DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_AFTER_MS = 1_000;
const USER_AGENT = 'minikube-preview';
const API_VERSION = '2022-11-28';
/** A request GitHub refused or that did not complete: says which, with GitHub's own message. */
class GitHubError extends Error {
    method;
    path;
    status;
    githubMessage;
    constructor(method, path, 
    /** HTTP status; 0 when no answer came (network error, timeout). */
    status, 
    /** GitHub's `message` (and validation errors), or why no answer came. */
    githubMessage) {
        super(status === 0
            ? `GitHub API ${method} ${path} failed: ${githubMessage}`
            : `GitHub API ${method} ${path} failed with ${status}: ${githubMessage}`);
        this.method = method;
        this.path = path;
        this.status = status;
        this.githubMessage = githubMessage;
        this.name = 'GitHubError';
    }
}
/**
 * No answer came in time. Named as an aborted request, which Octokit hands back as it is
 * without trying again: after that long a silence, three more tries would only hold up the run.
 */
class NoAnswer extends Error {
    method;
    url;
    name = 'AbortError';
    constructor(method, url, timeoutMs) {
        super(`no answer within ${formatMs(timeoutMs)}`);
        this.method = method;
        this.url = url;
    }
}
/** The connection failed (refused, reset, no such host): tried again, like a 5xx. */
class NoConnection extends Error {
}
/** GitHub's `message` and validation errors of an error answer. */
function describeError(status, data) {
    const json = data;
    if (json && typeof json === 'object') {
        const parts = [];
        if (typeof json.message === 'string')
            parts.push(json.message);
        for (const e of Array.isArray(json.errors) ? json.errors : []) {
            const m = typeof e?.message === 'string' ? e.message : [e?.field, e?.code].filter(Boolean).join(' ');
            if (m)
                parts.push(m);
        }
        if (parts.length > 0)
            return parts.join('; ');
    }
    const text = typeof data === 'string' ? data.trim().slice(0, 200) : '';
    return text || `HTTP ${status}`;
}
function shownPath(url, fallback) {
    if (!url)
        return fallback;
    try {
        const u = new URL(url);
        return u.pathname + u.search;
    }
    catch {
        return url;
    }
}
class GitHub {
    apiUrl;
    graphqlUrl;
    token;
    timeoutMs;
    retries;
    retryAfterMs;
    octokit;
    constructor(opts) {
        const env = opts.env ?? process.env;
        this.token = opts.token;
        this.apiUrl = (opts.apiUrl || env.GITHUB_API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
        this.graphqlUrl = opts.graphqlUrl || env.GITHUB_GRAPHQL_URL || `${this.apiUrl}/graphql`;
        this.timeoutMs = opts.timeoutMs ?? github_DEFAULT_TIMEOUT_MS;
        this.retries = opts.retries ?? DEFAULT_RETRIES;
        this.retryAfterMs = opts.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    }
    /**
     * Runs `calls` with the Octokit client. A refusal, an outage or no answer (after the
     * retries) comes out as a GitHubError naming the request.
     */
    async call(calls) {
        const octokit = await this.client();
        try {
            return await calls(octokit);
        }
        catch (err) {
            throw this.translate(err);
        }
    }
    /** One REST call. `path` is relative to the API base, or an absolute URL on the same host. */
    async request(method, path, body) {
        const res = await this.call((o) => o.request({ method, url: path, ...(body === undefined ? {} : { data: body }) }));
        return { status: res.status, data: res.data, headers: res.headers };
    }
    /** The login the token acts as. GET /user is refused to the Actions token, GraphQL `viewer` is not. */
    async viewerLogin() {
        const data = await this.call((o) => 
        // GHES: a base ending in /api/v3 is asked at /api/graphql, as GITHUB_GRAPHQL_URL says there.
        o.graphql({
            query: 'query { viewer { login } }',
            url: this.graphqlUrl
        }));
        const login = data?.viewer?.login;
        if (typeof login !== 'string' || !login)
            throw new GitHubError('POST', shownPath(this.graphqlUrl, '/graphql'), 200, 'no data in the answer');
        return login;
    }
    client() {
        this.octokit ??= this.load();
        return this.octokit;
    }
    async load() {
        // Loaded here, not at the top: most runs never talk to GitHub, and @actions/github reads
        // its own defaults from the environment when it is imported; everything is passed below.
        const [{ getOctokit }, { retry }, { HttpClient }, { fetch: undiciFetch }] = await Promise.all([
            __webpack_require__.e(/* import() */ 351).then(__webpack_require__.bind(__webpack_require__, 61351)),
            Promise.all(/* import() */[__webpack_require__.e(735), __webpack_require__.e(15)]).then(__webpack_require__.bind(__webpack_require__, 49735)),
            Promise.resolve(/* import() */).then(__webpack_require__.bind(__webpack_require__, 44942)),
            Promise.resolve(/* import() */).then(__webpack_require__.t.bind(__webpack_require__, 46752, 19))
        ]);
        // The runner's HTTPS_PROXY / HTTP_PROXY / NO_PROXY, for this host (loopback never goes through).
        const dispatcher = new HttpClient().getAgentDispatcher(this.apiUrl);
        const timeoutMs = this.timeoutMs;
        const fetchWithin = async (url, init) => {
            try {
                return await undiciFetch(url, {
                    ...init,
                    ...(dispatcher ? { dispatcher } : {}),
                    signal: AbortSignal.timeout(timeoutMs)
                });
            }
            catch (err) {
                const e = err;
                if (e.name === 'TimeoutError' || e.name === 'AbortError')
                    throw new NoAnswer(String(init.method ?? 'GET'), url, timeoutMs);
                throw new NoConnection(e.cause?.message ?? e.message);
            }
        };
        const octokit = getOctokit(this.token, {
            baseUrl: this.apiUrl,
            userAgent: USER_AGENT,
            request: { fetch: fetchWithin },
            retry: { retries: this.retries, retryAfterBaseValue: this.retryAfterMs },
            log: { debug: () => { }, info: () => { }, warn: () => { }, error: () => { } }
        }, retry);
        const origins = new Set([new URL(this.apiUrl).origin, new URL(this.graphqlUrl).origin]);
        octokit.hook.before('request', (options) => {
            // The token goes only to the hosts it was given for (a Link header names a full URL).
            const url = String(options.url);
            if (/^https?:\/\//i.test(url) && !origins.has(new URL(url).origin)) {
                throw new GitHubError(String(options.method), url, 0, `refusing to send the token to ${new URL(url).origin}`);
            }
            options.headers = { ...options.headers, 'x-github-api-version': API_VERSION };
        });
        return octokit;
    }
    translate(err) {
        if (err instanceof GitHubError)
            return err;
        if (err instanceof NoAnswer)
            return new GitHubError(err.method, shownPath(err.url, ''), 0, err.message);
        const e = (err ?? {});
        const method = e.request?.method ?? 'GET';
        const path = shownPath(e.request?.url, '');
        if (e.name === 'GraphqlResponseError' || (Array.isArray(e.errors) && e.request)) {
            const msg = (e.errors ?? []).map((x) => x.message ?? 'unknown error').join('; ');
            return new GitHubError('POST', shownPath(this.graphqlUrl, '/graphql'), 200, redact(msg || 'no data in the answer'));
        }
        if (!e.request)
            return err;
        const status = e.response?.status;
        if (status === undefined) {
            const cause = e.cause instanceof NoConnection ? e.cause.message : String(e.message ?? 'no answer');
            return new GitHubError(method, path, 0, redact(cause));
        }
        return new GitHubError(method, path, status, redact(describeError(status, e.response?.data)));
    }
}
/** `owner/name` as the REST API's `{ owner, repo }`. */
function ownerAndName(repo) {
    const slash = repo.indexOf('/');
    return { owner: repo.slice(0, slash), repo: repo.slice(slash + 1) };
}
/**
 * The state of pull request `pr` of `repo` (`owner/name`): one `GET /repos/{o}/{r}/pulls/{n}`.
 * A pull request GitHub no longer has (404, 410) is closed; any other refusal or failure is
 * `unknown`, never closed, so that a sweep never removes a preview it could not ask about.
 */
async function pullRequestState(github, repo, pr) {
    try {
        const res = await github.call((o) => o.rest.pulls.get({ ...ownerAndName(repo), pull_number: pr }));
        const data = res.data;
        if (data.state === 'open')
            return { state: 'open' };
        if (data.state === 'closed')
            return {
                state: 'closed',
                merged: data.merged === true || typeof data.merged_at === 'string',
                deleted: false
            };
        return {
            state: 'unknown',
            status: res.status,
            warning: `Could not tell whether PR #${pr} is open: GitHub answered without a state`
        };
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        if (err.status === 404 || err.status === 410)
            return { state: 'closed', merged: false, deleted: true };
        const said = err.status
            ? `GitHub answered ${err.status}: ${err.githubMessage}`
            : err.githubMessage;
        const hint = err.status === 403
            ? ' (the token needs `permissions: pull-requests: read`)'
            : err.status === 401
                ? " (GitHub did not accept the token, input 'github-token')"
                : '';
        return {
            state: 'unknown',
            status: err.status,
            warning: `Could not tell whether PR #${pr} is open${hint}; its preview is kept. ${said}.`
        };
    }
}
/** Whether the token can read the repository itself: a 200 for `GET /repos/{owner}/{repo}`. */
async function repositoryVisible(github, repo) {
    try {
        await github.call((o) => o.rest.repos.get(ownerAndName(repo)));
        return true;
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return false;
    }
}
/**
 * The state of each of `prs` (each number asked once, in turn), for a sweep over many previews.
 * GitHub answers 404 for every pull request of a repository the token cannot see, so a 404 counts
 * as deleted only once the repository itself answered: otherwise each such state is unknown.
 */
async function pullRequestStates(github, repo, prs) {
    const states = new Map();
    let visible;
    for (const pr of prs) {
        if (states.has(pr))
            continue;
        const state = await pullRequestState(github, repo, pr);
        if (state.state === 'closed' &&
            state.deleted &&
            !(visible ??= await repositoryVisible(github, repo))) {
            states.set(pr, {
                state: 'unknown',
                status: 404,
                warning: `Could not tell whether PR #${pr} is open: GitHub answers 404 for it and for the repository ${repo} itself, which the token cannot see (input 'github-token'); its preview is kept.`
            });
            continue;
        }
        states.set(pr, state);
    }
    return states;
}

;// CONCATENATED MODULE: ./src/report/failure.ts
// The first failure of a run in plain words, for the top of the summary and the comment.

/** The first failure, in plain words, for the top of the summary and the comment. */
function firstFailure(report) {
    const failed = report.steps
        .filter((s) => s.status === 'failure')
        .sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
    const bad = report.workloads.find((w) => w.state === 'failed') ??
        report.workloads.find((w) => w.state !== 'healthy');
    if (bad && failed.some((s) => s.id === 'verify' || s.id === 'stable')) {
        // One sentence in our words: the kubelet's text is in the workloads table beside it.
        const what = `${bad.kind} ${bad.name}: ${bad.summary ?? bad.reason ?? 'not ready'}`;
        const waited = report.verify?.timedOutAfterMs;
        return waited !== undefined ? `not healthy after ${formatMs(waited)}: ${what}` : what;
    }
    const step = failed[0];
    if (step)
        return `${step.title} failed: ${step.reason ?? 'no reason was given'}`;
    const check = report.healthChecks.find((c) => !c.ok);
    if (check)
        return `health check ${check.label} failed: ${check.error ?? `status ${check.status}`}`;
    return undefined;
}

;// CONCATENATED MODULE: ./src/report/untrusted.ts
// Text from the cluster, the chart, the images and the pull request is written by whoever opened
// the pull request. These are the only ways such text reaches markdown: `inline` for live text,
// `codeSpan` for a name shown as code, `summaryText` inside our own <summary>, `fencedBlock` for
// logs. Each starts from `plain`, which masks secrets and breaks up anything that could pass
// for a marker of ours (or of any other tool that finds its comment by an HTML comment).


/**
 * U+2060 WORD JOINER: invisible, and not a character GitHub's mention, reference or autolink
 * patterns accept. Put after `@`, `#`, `://` and `www`, it leaves the text readable and inert.
 */
const JOINER = '\u2060';
/** What an HTML comment opener becomes: looks the same, opens nothing, matches no marker. */
const NEUTRAL_OPENER = `<!-${JOINER}-`;
/** Every `<!--`, whatever follows it: ours (`<!-- minikube-preview: … -->`) and other tools'. */
function neutraliseMarkers(s) {
    return s.includes('<!--') ? s.replace(/<!--/g, NEUTRAL_OPENER) : s;
}
// C0/C1 controls but tab and newline (ANSI colours, NUL, a bare CR), and the bidirectional
// overrides that make text read in another order than it is written.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-_])/g;
/**
 * The one first pass over any untrusted value: secrets masked (before anything cuts or
 * reformats it), line endings made `\n`, terminal escapes and control characters dropped,
 * HTML comment openers broken up.
 */
function plain(value) {
    const s = redact(value).replace(/\r\n?/g, '\n').replace(ANSI, '').replace(CONTROLS, '');
    return neutraliseMarkers(s);
}
/**
 * What GitHub would turn into a notification or a link in rendered text: `@user`,
 * `@org/team`, an e-mail address, `#123`, `owner/repo#123`, `GH-123`, `scheme://…`, `www.…`.
 * A joiner after the trigger keeps each one as it reads and makes it match nothing.
 */
function defuse(s) {
    return s
        .replace(/@/g, `@${JOINER}`)
        .replace(/#(?=\d)/g, `#${JOINER}`)
        .replace(/(GH-)(?=\d)/gi, `$1${JOINER}`)
        .replace(/:\/\//g, `:${JOINER}//`)
        .replace(/(www)(?=\.)/gi, `$1${JOINER}`);
}
function escapeHtml(s) {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
/**
 * Live text on one line (a table cell, the Why line, the Chart line): nothing in it can start
 * markup, a table cell, an HTML tag, math, a line break, a mention or a link.
 */
function inline(value, max = 300) {
    if (value === undefined || value === '')
        return '';
    const v = clip(plain(String(value))
        .replace(/\s*\n+\s*/g, ' ')
        .trim(), max);
    return defuse(escapeHtml(v).replace(/([\\`*_[\]|~#!$])/g, '\\$1'));
}
/**
 * A code span (GitHub links and mentions nothing in code) that backticks and pipes in the value
 * cannot end: the fence is longer than any backtick run, `|` is `\|` for the table, and a
 * backslash before a pipe is kept from pairing with it.
 */
function codeSpan(value, max = 200) {
    if (value === undefined || value === '')
        return '';
    const v = clip(plain(value)
        .replace(/\s*\n+\s*/g, ' ')
        .trim(), max)
        .replace(/\\(?=\|)/g, `\\${JOINER}`)
        .replace(/\|/g, '\\|');
    // An empty span would be a bare backtick pair that pairs with the next span's fence.
    if (v === '')
        return '';
    const longest = Math.max(0, ...(v.match(/`+/g) ?? []).map((r) => r.length));
    const fence = '`'.repeat(longest + 1);
    const pad = v.startsWith('`') || v.endsWith('`') ? ' ' : '';
    return `${fence}${pad}${v}${pad}${fence}`;
}
/**
 * Text inside an HTML element of ours (`<summary>`), where markdown escapes do not apply:
 * entities instead, on one line, inert.
 */
function summaryText(value, max = 200) {
    const v = clip(plain(value).replace(/\s*\n+\s*/g, ' '), max);
    return defuse(escapeHtml(v).replace(/"/g, '&quot;')).replace(/\$/g, '&#36;');
}
/**
 * A fenced block that its content cannot close: the fence is longer than any backtick run in
 * it. The body must already have passed through `plain` (the diagnostics do, before they are
 * cut to size).
 */
function fencedBlock(body, lang = 'text') {
    const longest = Math.max(2, ...(body.match(/`{3,}/g) ?? []).map((r) => r.length));
    const fence = '`'.repeat(longest + 1);
    return `${fence}${lang}\n${body.replace(/\n+$/, '')}\n${fence}`;
}
/** Longest URL shown as a link; a longer one is shown as code. */
const LINK_LIMIT = 2048;
// http(s), a host, an optional port, then only characters that neither markdown nor HTML reads
// anything into (no `_*~[]()<>!|\` quotes, spaces or `@`), and nothing the redaction would change.
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:[/?#][A-Za-z0-9./:?#%&=+,-]*)?$/i;
/**
 * A URL: a link when it is plainly http(s) with nothing in it that markdown or HTML could read
 * anything into (an autolink, `<https://…>`, whose text is the URL itself); otherwise a code span.
 */
function urlText(url) {
    if (url.length <= LINK_LIMIT && PLAIN_URL.test(url) && plain(url) === url) {
        try {
            new URL(url);
            return `<${url}>`;
        }
        catch {
            // not a URL after all: shown as code below
        }
    }
    return codeSpan(url, 300);
}

;// CONCATENATED MODULE: ./src/report/markdown.ts
// What the user reads: the job summary and the pull-request comment, both pure functions of
// the Report. Values come from Kubernetes, tools and users: every one reaches the text through
// one of the functions of untrusted.ts, chosen by the place it lands in, and the whole text
// passes through redact().




/** GitHub's job summary limit (1 MiB). */
const SUMMARY_LIMIT = 1024 * 1024;
/** GitHub's limit on a comment body (characters). */
const COMMENT_LIMIT = 65_536;
/** The hidden first line of the comment for `header`; `--` is broken up so the HTML comment cannot end early. */
function commentMarker(header) {
    let h = header.replace(/[\r\n]+/g, ' ').trim();
    while (h.includes('--'))
        h = h.replace(/--/g, '- -');
    return `<!-- minikube-preview: ${h} -->`;
}
const STATUS_ICON = {
    healthy: '✅',
    unhealthy: '❌',
    error: '⛔',
    removed: '🧹',
    swept: '🧹'
};
const STATE_ICON = {
    healthy: '✅',
    progressing: '⏳',
    failed: '❌'
};
function formatBytes(n) {
    if (n < 1000)
        return `${n} B`;
    if (n < 1e6)
        return `${(n / 1e3).toFixed(1)} kB`;
    if (n < 1e9)
        return `${(n / 1e6).toFixed(1)} MB`;
    return `${(n / 1e9).toFixed(2)} GB`;
}
function shortImageId(id) {
    return id.replace(/^sha256:/, '').slice(0, 12);
}
function table(head, rows) {
    const line = (cells) => `| ${cells.map((c) => c || ' ').join(' | ')} |`;
    return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}
function statusLine(report, header) {
    const parts = [];
    const release = report.release;
    const title = `${STATUS_ICON[report.status]} **${report.status}**`;
    const defaultHeader = release ? `${release.name}/${release.namespace}` : '';
    const h = header.trim();
    parts.push(h && h !== defaultHeader ? `${title} — ${inline(h, 100)}` : title);
    if (release)
        parts.push(`release ${codeSpan(release.name, 100)} in namespace ${codeSpan(release.namespace, 100)}`);
    if (report.commit)
        parts.push(`commit ${codeSpan(report.commit.slice(0, 7))}`);
    const duration = report.durationMs ??
        (report.endedAt !== undefined ? report.endedAt - report.startedAt : undefined);
    if (duration !== undefined)
        parts.push(formatDuration(duration));
    const held = report.verify?.healthyForMs;
    if (fine(report.status) && held !== undefined)
        parts.push(`stable ${formatDuration(held)}`);
    if (report.runUrl && /^https?:\/\//.test(report.runUrl)) {
        parts.push(`[workflow run](${encodeURI(redact(report.runUrl)).replace(/[()]/g, encodeURIComponent)})`);
    }
    return `### ${parts.join(' · ')}`;
}
/** The outcomes that are not a failure: nothing to explain, no diagnostics. */
function fine(status) {
    return status === 'healthy' || status === 'removed' || status === 'swept';
}
/** What a teardown or a sweep did: what went, what stayed, and why. */
/** One preview a sweep removed or kept: `release web in pr-7 (pull request 7): expired at …`. */
function describeSwept(e) {
    const what = e.release ? `release ${e.release} in ${e.namespace}` : `namespace ${e.namespace}`;
    return `${what}${e.pr !== undefined ? ` (pull request ${e.pr})` : ''}: ${e.reason}`;
}
function lifecycleBlock(report) {
    const p = report.preview;
    if (!p || p.mode === 'preview')
        return '';
    const list = (title, items) => items && items.length > 0
        ? `**${title}**\n\n${items
            .slice(0, 50)
            .map((x) => `- ${inline(x, 300)}`)
            .join('\n')}${items.length > 50 ? `\n- _… and ${items.length - 50} more_` : ''}`
        : '';
    const blocks = p.mode === 'sweep'
        ? [
            list('Removed', p.swept?.map(describeSwept)),
            list('Kept', p.kept?.map(describeSwept)),
            p.swept?.length || p.kept?.length ? '' : 'No preview of this repository on the cluster.'
        ]
        : [list('Removed', p.removed), list('Left in place', p.left)];
    return blocks.filter((b) => b).join('\n\n');
}
function reasonBlock(report) {
    if (fine(report.status))
        return '';
    const reason = plain(report.reason ?? firstFailure(report) ?? 'no reason was recorded');
    const lines = reason.split(/\r?\n/).filter((l) => l.trim() !== '');
    const first = lines.shift() ?? '';
    const rest = lines.slice(-30).join('\n');
    const out = [`**Why:** ${inline(first, 1000)}`];
    if (rest)
        out.push(fencedBlock(clip(rest, 4000)));
    return out.join('\n\n');
}
function workloadRow(w) {
    const why = [w.reason, w.message].filter((x) => x).join(': ');
    return [
        inline(w.kind),
        codeSpan(w.name, 120),
        inline(w.ready),
        inline(String(w.restarts)),
        `${STATE_ICON[w.state]} ${w.state}`,
        inline(why, 400)
    ];
}
function checkRow(c) {
    return [
        inline(c.label, 120),
        codeSpan(c.url),
        c.ok ? '✅ passed' : '❌ failed',
        c.status !== undefined ? inline(String(c.status)) : '',
        c.latencyMs !== undefined ? formatDuration(c.latencyMs) : '',
        inline(String(c.attempts)),
        inline(c.error, 400)
    ];
}
/**
 * The reference a cell shows: for a pushed image, where it is in the registry and the digest the
 * chart was pinned to, with the `push-tags` put on it. All of it comes from inputs: rendered as code.
 */
function referenceCell(i) {
    if (!i.pushed)
        return codeSpan(i.reference);
    const digest = i.digest ? ` @ ${codeSpan(i.digest.slice(0, 19))}` : '';
    const tags = (i.tags ?? []).map((t) => codeSpan(t.slice(t.lastIndexOf(':') + 1), 130));
    return `${codeSpan(i.pushed, 300)}${digest}${tags.length > 0 ? `, tagged ${tags.join(', ')}` : ''}`;
}
function imageRow(i) {
    return [
        inline(i.name, 120),
        referenceCell(i),
        i.id ? codeSpan(shortImageId(i.id)) : '',
        i.sizeBytes !== undefined ? formatBytes(i.sizeBytes) : '',
        i.buildMs !== undefined ? formatDuration(i.buildMs) : '',
        cachedSteps(i),
        i.loadMs !== undefined ? formatDuration(i.loadMs) : '',
        inline(i.pushed && !i.delivery ? 'pushed' : i.delivery)
    ];
}
/** `4/6` Dockerfile steps from the layer cache, with the cache they came from. */
function cachedSteps(i) {
    if (i.steps === undefined || i.steps === 0)
        return '';
    const from = i.cache ? ` (${inline(i.cache, 20)})` : '';
    return `${i.cachedSteps ?? 0}/${i.steps}${from}`;
}
/** The unhealthy come first when rows must be left out. */
function pick(items, cap, bad) {
    if (items.length <= cap)
        return items;
    const keep = new Set([...items.filter(bad), ...items.filter((t) => !bad(t))].slice(0, cap));
    return items.filter((t) => keep.has(t));
}
function tableSection(title, head, items, rows, noun) {
    const more = items.length - rows.length;
    const note = more > 0 ? `\n\n_… and ${more} more ${noun} not shown, to fit the size limit._` : '';
    return `#### ${title}\n\n${table(head, rows)}${note}`;
}
function once(render) {
    const done = new Map();
    return (t) => {
        let row = done.get(t);
        if (!row)
            done.set(t, (row = render(t)));
        return row;
    };
}
function tables(report, cap, rows) {
    const out = [];
    if (report.workloads.length > 0) {
        const shown = pick(report.workloads, cap, (w) => w.state !== 'healthy');
        out.push(tableSection('Workloads', ['Kind', 'Name', 'Ready', 'Restarts', 'State', 'Reason'], report.workloads, shown.map(rows.workload), 'workloads'));
    }
    if (report.healthChecks.length > 0) {
        const shown = pick(report.healthChecks, cap, (c) => !c.ok);
        out.push(tableSection('Health checks', ['Check', 'URL', 'Result', 'Status', 'Latency', 'Attempts', 'Error'], report.healthChecks, shown.map(rows.check), 'health checks'));
    }
    if (report.helmTest)
        out.push(helmTestLine(report, cap));
    if (report.images.length > 0) {
        const shown = report.images.slice(0, cap);
        out.push(tableSection('Images', ['Image', 'Reference', 'ID', 'Size', 'Build', 'Steps cached', 'Load', 'Delivery'], report.images, shown.map(rows.image), 'images'));
    }
    const env = environmentLine(report, cap);
    if (env)
        out.push(env);
    return out;
}
function helmTestLine(report, cap) {
    const t = report.helmTest;
    if (!t)
        return '';
    const pods = t.pods.slice(0, cap).map((p) => `${codeSpan(p.name, 120)} ${inline(p.phase, 40)}`);
    if (t.pods.length > cap)
        pods.push(`and ${t.pods.length - cap} more`);
    const result = t.passed ? '✅ passed' : '❌ failed';
    const message = t.message ? `: ${inline(t.message, 400)}` : '';
    return `**Helm test:** ${result}${message}${pods.length ? ` (${pods.join(', ')})` : ''}`;
}
function environmentLine(report, cap) {
    const parts = [];
    const c = report.cluster;
    if (c) {
        const facts = [inline(c.kind)];
        if (c.kubernetesVersion)
            facts.push(`Kubernetes ${inline(c.kubernetesVersion, 40)}`);
        if (c.driver)
            facts.push(`driver ${inline(c.driver, 40)}`);
        if (c.nodes !== undefined)
            facts.push(`${c.nodes} node${c.nodes === 1 ? '' : 's'}`);
        if (c.ip)
            facts.push(`IP ${inline(c.ip, 60)}`);
        if (c.addons && c.addons.length > 0) {
            facts.push(`addons ${c.addons
                .slice(0, cap)
                .map((a) => inline(a, 60))
                .join(', ')}`);
        }
        parts.push(`**Cluster:** ${facts.join(', ')}`);
    }
    if (report.release?.chart) {
        const v = report.release.chartVersion ? ` ${inline(report.release.chartVersion, 40)}` : '';
        const rev = report.release.revision !== undefined ? `, revision ${report.release.revision}` : '';
        parts.push(`**Chart:** ${codeSpan(report.release.chart, 120)}${v}${rev}`);
    }
    if (report.tools.length > 0) {
        const tools = report.tools
            .slice(0, cap)
            .map((t) => `${inline(t.name, 40)} ${inline(t.version, 40)}${t.cached ? ' (cached)' : ''}`);
        parts.push(`**Tools:** ${tools.join(', ')}`);
    }
    return parts.join(' · ');
}
/** Mermaid reads `:` `;` `#` and line breaks as syntax in a task name. */
function ganttLabel(s) {
    return plain(s)
        .replace(/[^\p{L}\p{N} ._\-()/+@]/gu, ' ')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 80);
}
/**
 * One bar per step that ran, offsets in ms from the start of the run. The axis prints `%s`
 * (seconds since the epoch, i.e. since the run started): unlike `%M:%S` it does not shift
 * with the reader's time zone.
 */
function timeline(report) {
    const ran = report.steps.filter((s) => s.startedAt !== undefined);
    const out = [];
    if (ran.length > 0) {
        const lastEnd = Math.max(report.endedAt ?? 0, ...ran.map((s) => s.endedAt ?? s.startedAt ?? 0));
        const lines = ['gantt', '  dateFormat x', '  axisFormat %s s', '  todayMarker off'];
        ran.forEach((s, i) => {
            const start = Math.max(0, s.startedAt - report.startedAt);
            const end = Math.max(start + 1, (s.endedAt ?? lastEnd) - report.startedAt);
            const took = s.durationMs ?? (s.endedAt !== undefined ? s.endedAt - s.startedAt : undefined);
            const label = [
                ganttLabel(s.title) || s.id.replace(/[^\w-]/g, '') || `step ${i + 1}`,
                s.status === 'failure' ? '(failed)' : s.status === 'running' ? '(still running)' : '',
                took !== undefined ? formatDuration(took) : ''
            ]
                .filter((x) => x)
                .join(' ');
            const tags = s.status === 'failure' ? 'crit, ' : '';
            lines.push(`  ${label} :${tags}step${i}, ${start}, ${end}`);
        });
        out.push('```mermaid\n' + lines.join('\n') + '\n```');
    }
    const skipped = report.steps.filter((s) => s.status === 'skipped');
    if (skipped.length > 0) {
        const title = (id) => report.steps.find((s) => s.id === id)?.title ?? id ?? 'an earlier step';
        const list = skipped.map((s) => s.skippedBecause
            ? `${inline(s.title, 80)} (waited for ${inline(title(s.skippedBecause), 80)})`
            : inline(s.title, 80));
        out.push(`**Skipped:** ${list.join(', ')}`);
    }
    if (out.length === 0)
        return '';
    return `#### Steps\n\n${out.join('\n\n')}`;
}
function diagnosticSections(report) {
    if (fine(report.status))
        return [];
    const sections = (report.diagnostics?.sections ?? []).map((s) => ({
        title: s.title,
        body: plain(s.body)
    }));
    for (const pod of report.helmTest?.pods ?? []) {
        if (pod.log && pod.phase !== 'Succeeded') {
            sections.push({ title: `helm test ${pod.name} (${pod.phase})`, body: plain(pod.log) });
        }
    }
    return sections.filter((s) => s.body.trim() !== '');
}
function details(s) {
    return `<details><summary>${summaryText(clip(s.title, 200))}</summary>\n\n${fencedBlock(s.body)}\n\n</details>`;
}
/** The last `max` bytes of `body`, from a line start, saying how many lines were cut. */
function tailFromLineStart(body, max) {
    if (byteLength(body) <= max)
        return body;
    let kept = utf8Tail(body, max);
    const nl = kept.indexOf('\n');
    kept = nl >= 0 && nl < kept.length - 1 ? kept.slice(nl + 1) : kept.replace(/^\uFFFD+/, '');
    const total = body.split('\n').length;
    const cut = total - kept.split('\n').length;
    return `[… ${cut} earlier line${cut === 1 ? '' : 's'} cut …]\n${kept}`;
}
function artifactLink(report) {
    const d = report.diagnostics;
    if (d?.artifactId !== undefined && report.runUrl && /^https?:\/\//.test(report.runUrl)) {
        const run = report.runUrl.replace(/\/attempts\/\d+\/?$/, '').replace(/\/$/, '');
        return `[the diagnostics artifact](${encodeURI(`${run}/artifacts/${d.artifactId}`)})`;
    }
    if (d?.artifactId !== undefined || d?.file)
        return 'the diagnostics artifact of the workflow run';
    return 'the step log';
}
/** Less than this is not a useful tail (about a dozen log lines): the section is left out. */
const MIN_SECTION_BYTES = 1024;
/** `_Diagnostics trimmed …_`: which sections were cut to their tails, which left out. */
function trimNote(shortened, dropped, link) {
    const what = [];
    if (shortened.length > 0) {
        what.push(`${shortened.map((t) => inline(t, 60)).join(', ')} cut to the last lines`);
    }
    if (dropped.length > 0)
        what.push(`${dropped.map((t) => inline(t, 60)).join(', ')} left out`);
    return `_Diagnostics trimmed to fit the size limit: ${what.join('; ')}. All of it is in ${link}._`;
}
/**
 * The job summary or comment for `report`, never longer than `opts.limit` bytes. When it would
 * be, the diagnostics give way first (each keeps its tail, then whole sections are left out, and
 * a line says so); the status line and the tables stay.
 */
function renderMarkdown(report, opts) {
    const limit = Math.max(0, Math.floor(opts.limit));
    const marker = opts.marker ? opts.marker.replace(/[\r\n]+/g, ' ') : undefined;
    const head = [
        opts.url ? `🔗 ${urlText(opts.url)}` : '',
        statusLine(report, opts.header),
        lifecycleBlock(report),
        reasonBlock(report)
    ].filter((x) => x);
    const allRows = Math.max(report.workloads.length, report.healthChecks.length, report.images.length, report.tools.length, report.helmTest?.pods.length ?? 0, report.cluster?.addons?.length ?? 0);
    const steps = timeline(report);
    const link = artifactLink(report);
    const rows = {
        workload: once(workloadRow),
        check: once(checkRow),
        image: once(imageRow)
    };
    // The text before redaction: redaction only ever shortens it (a secret of three characters or
    // more becomes `***`), so a size measured here bounds the size of the result.
    const compose = (l) => {
        const blocks = [...head, ...tables(report, l.rowCap, rows)];
        if (l.timeline && steps)
            blocks.push(steps);
        if (l.sections.length > 0 || l.note) {
            const diag = ['#### Diagnostics'];
            if (l.note)
                diag.push(l.note);
            diag.push(...l.sections.map(details));
            blocks.push(diag.join('\n\n'));
        }
        return `${marker ? `${marker}\n` : ''}${blocks.join('\n\n')}\n`;
    };
    const assemble = (l) => redact(compose(l));
    const full = diagnosticSections(report);
    const layout = { rowCap: allRows, timeline: true, sections: full };
    let out = assemble(layout);
    if (byteLength(out) <= limit)
        return out;
    // The diagnostics give way: tails first, then whole sections from the end. What is left for
    // them is the limit less everything else, the note saying what was trimmed included; each
    // section then costs its `details` frame and the blank line before it (see fitSections).
    if (full.length > 0) {
        const trimmed = (available) => {
            const fitted = fitSections(full, available);
            const shortened = fitted.filter((f, i) => f.body !== full[i]?.body).map((f) => f.title);
            const dropped = full.slice(fitted.length).map((s) => s.title);
            return { fitted, note: trimNote(shortened, dropped, link) };
        };
        const room = (note) => limit - byteLength(compose({ ...layout, sections: [], note }));
        // First with room for the longest note there can be (every title named), then, when the
        // note actually needed leaves more room and the same sections are still trimmed alike,
        // with that room.
        const titles = full.map((s) => s.title);
        let best = trimmed(room(trimNote(titles, titles, link)));
        const wider = trimmed(room(best.note));
        if (wider.note === best.note)
            best = wider;
        out = assemble({ ...layout, sections: best.fitted, note: best.note });
        if (byteLength(out) <= limit)
            return out;
    }
    // Still too long: the tables themselves are huge. Keep the status line; drop the chart,
    // then show as many rows as fit.
    const note = full.length > 0
        ? `_Diagnostics left out to fit the size limit. All of it is in ${link}._`
        : undefined;
    out = assemble({ rowCap: allRows, timeline: false, sections: [], note });
    if (byteLength(out) <= limit)
        return out;
    let lo = 0;
    let hi = allRows;
    while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (byteLength(assemble({ rowCap: mid, timeline: false, sections: [], note })) <= limit)
            lo = mid;
        else
            hi = mid - 1;
    }
    out = assemble({ rowCap: lo, timeline: false, sections: [], note });
    if (byteLength(out) <= limit)
        return out;
    return hardCut(out, limit);
}
/** The bytes `tailFromLineStart` puts before the tail it keeps of `body`, at most. */
function tailPrefixBytes(body) {
    const lines = body.split('\n').length;
    return byteLength(`[… ${lines} earlier lines cut …]\n`);
}
/**
 * Sections cut to share `available` bytes (their `details` blocks and the blank line before
 * each included): the small ones whole, the large ones to equal tails. Sections are left out
 * from the end while each would get less than a useful tail.
 */
function fitSections(sections, available) {
    for (let k = sections.length; k > 0; k--) {
        const chosen = sections.slice(0, k);
        // A block's frame is all of it but the body (its fence as long as the body needs: a tail
        // never has a longer run of backticks than its body), and a tail adds its prefix.
        const overheads = chosen.map((s) => 2 + byteLength(details(s)) - byteLength(s.body.replace(/\n+$/, '')) + tailPrefixBytes(s.body));
        const budget = available - overheads.reduce((a, b) => a + b, 0);
        if (budget < MIN_SECTION_BYTES * k)
            continue;
        const share = shareBytes(chosen.map((s) => byteLength(s.body)), budget);
        return chosen.map((s, i) => ({
            title: s.title,
            body: tailFromLineStart(s.body, share[i])
        }));
    }
    return [];
}
/** The longest prefix of `s` of at most `max` UTF-8 bytes that does not split a character. */
function prefix(s, max) {
    if (max <= 0)
        return '';
    // As before the cut moved to text.ts: a trailing U+FFFD is dropped with the cut.
    return utf8Head(s, max).replace(/\uFFFD+$/, '');
}
/** The last resort: the start of the text, saying it was cut. */
function hardCut(s, limit) {
    const note = '\n\n_… cut to fit the size limit._\n';
    const room = limit - byteLength(note);
    return room <= 0 ? prefix(s, limit) : prefix(s, room) + note;
}

;// CONCATENATED MODULE: ./src/report/comment.ts
// Exactly one pull-request comment per header: found again by its first line, which is the
// hidden marker of the header, and by its author, the token's own identity; updated in place,
// created only when there is none.





/** Pages of comments read at most (10,000 comments): beyond that, no comment is touched. */
const MAX_PAGES = 100;
/**
 * Whether to comment: `auto` on pull_request and pull_request_target events, `always` on the PR
 * of the commit whatever the event, `on-failure` when the run is not healthy, `never` never.
 * There must be a PR to comment on.
 */
function decideComment(mode, event, status, prNumber) {
    if (prNumber === undefined || !Number.isInteger(prNumber) || prNumber <= 0)
        return false;
    switch (mode) {
        case 'auto':
            return isPullRequestEvent(event);
        case 'always':
            return true;
        case 'on-failure':
            return status !== 'healthy';
        case 'never':
            return false;
    }
}
/** The PR number in a webhook payload (pull_request events, or a comment on a PR). */
function prFromPayload(payload) {
    const p = payload;
    const n = p?.pull_request?.number ?? (p?.issue?.pull_request ? p.issue.number : undefined);
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}
/**
 * The PR to report to: from the event payload, or, for `always` and `on-failure` on other events
 * (a push), the first open PR that contains the commit (`GET /repos/{o}/{r}/commits/{sha}/pulls`).
 */
async function findPullRequest(opts) {
    if (opts.mode === 'never')
        return { source: 'none' };
    if (opts.eventPr !== undefined)
        return { pr: opts.eventPr, source: 'event' };
    if (opts.mode === 'auto' || !opts.github || !opts.repo || !opts.sha)
        return { source: 'none' };
    const sha = opts.sha;
    try {
        const pulls = await opts.github.call((o) => o.rest.repos.listPullRequestsAssociatedWithCommit({
            ...ownerAndName(opts.repo),
            commit_sha: sha,
            per_page: 100
        }));
        const open = (Array.isArray(pulls.data) ? pulls.data : []).find((p) => p.state === 'open');
        return open ? { pr: open.number, source: 'commit' } : { source: 'none' };
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return {
            source: 'none',
            warning: `Could not look up the pull request of commit ${opts.sha.slice(0, 7)}: ${err.message}`
        };
    }
}
/** The Actions token's identity, should GraphQL not answer. */
const ACTIONS_LOGIN = 'github-actions[bot]';
/**
 * The login the token acts as: GraphQL `viewer`, else `GET /user` (a personal token). Only an
 * installation token (`ghs_`, as the Actions token is), which `/user` refuses, is then taken
 * for the Actions bot; anything else stays unknown, and nothing is touched.
 */
async function whoAmI(github, token) {
    const tolerated = (err) => {
        if (!(err instanceof GitHubError) || err.status === 401)
            throw err;
    };
    try {
        return await github.viewerLogin();
    }
    catch (err) {
        tolerated(err);
    }
    try {
        const me = await github.call((o) => o.rest.users.getAuthenticated());
        const login = me.data?.login;
        if (typeof login === 'string' && login)
            return login;
    }
    catch (err) {
        tolerated(err);
    }
    return token.startsWith('ghs_') ? ACTIONS_LOGIN : undefined;
}
/** The first line of a comment, as GitHub may give it back with CRLF line endings. */
function firstLine(body) {
    const nl = body.indexOf('\n');
    return (nl < 0 ? body : body.slice(0, nl)).replace(/\r$/, '');
}
/**
 * Ours: the first line is exactly the marker of this header, and the token's identity wrote
 * it. A marker anywhere else (a pod log that printed one, a quote, another leg's header) does
 * not make a comment ours.
 */
function isOurComment(comment, marker, viewer) {
    return (typeof comment.body === 'string' &&
        firstLine(comment.body) === marker &&
        isAuthor(comment, viewer));
}
function isAuthor(comment, viewer) {
    const login = comment.user?.login;
    if (!login)
        return false;
    // REST names an app `<slug>[bot]`; accept the bare slug too, in case `viewer` gave that.
    return login === viewer || login === `${viewer}[bot]`;
}
function warningFor(pr, err) {
    const said = err.status
        ? `GitHub answered ${err.status}: ${err.githubMessage}`
        : err.githubMessage;
    if (err.status === 403 || err.status === 404) {
        return (`Could not comment on PR #${pr}: the token may not write to pull requests ` +
            `(pull requests from forks get a read-only token). Grant \`permissions: pull-requests: write\` ` +
            `to the job, or set \`comment: never\`. ${said}.`);
    }
    if (err.status === 401) {
        return `Could not comment on PR #${pr}: GitHub did not accept the token (input 'github-token'). ${said}.`;
    }
    return `Could not comment on PR #${pr}: ${err.message}.`;
}
/**
 * Creates or updates our comment for `header` on the PR: the one whose first line is the
 * header's marker and that the token's own identity wrote, searched across every page. No
 * other comment is ever edited or deleted, whatever it contains. Never throws for an answer
 * from GitHub: a refusal (a fork's read-only token, missing `pull-requests: write`), an outage or
 * a timeout comes back as `{ ok: false, warning }`, for the caller to warn and go on.
 */
async function upsertComment(opts) {
    const github = opts.github ??
        new GitHub({
            token: opts.token,
            apiUrl: opts.apiUrl,
            graphqlUrl: opts.graphqlUrl,
            timeoutMs: opts.timeoutMs,
            retries: opts.retries,
            retryAfterMs: opts.retryAfterMs,
            env: opts.env
        });
    const marker = commentMarker(opts.header);
    const nl = opts.body.indexOf('\n');
    const given = firstLine(opts.body) === marker ? (nl < 0 ? '' : opts.body.slice(nl + 1)) : opts.body;
    const body = `${marker}\n${neutraliseMarkers(given)}`;
    const listPath = `/repos/${opts.repo}/issues/${opts.pr}/comments`;
    try {
        const viewer = await whoAmI(github, opts.token);
        if (viewer === undefined) {
            const message = 'GitHub did not say which account the token acts as';
            return {
                ok: false,
                status: 0,
                message,
                warning: `Could not comment on PR #${opts.pr}: ${message} (input 'github-token'), ` +
                    `so no comment was created, edited or deleted.`
            };
        }
        const where = { ...ownerAndName(opts.repo), issue_number: opts.pr };
        let pages = 0;
        const comments = await github.call((o) => o.paginate(o.rest.issues.listComments, { ...where, per_page: 100 }, (page) => {
            if (++pages > MAX_PAGES)
                throw new GitHubError('GET', listPath, 0, `more than ${MAX_PAGES} pages`);
            return page.data;
        }));
        const ours = comments.filter((c) => isOurComment(c, marker, viewer));
        const [keep, ...extra] = ours;
        if (!keep) {
            if (opts.create === false)
                return { ok: true, action: 'none' };
            const created = await github.call((o) => o.rest.issues.createComment({ ...where, body }));
            return {
                ok: true,
                action: 'created',
                id: created.data.id,
                url: created.data.html_url,
                removed: 0
            };
        }
        const { owner, repo } = where;
        const updated = await github.call((o) => o.rest.issues.updateComment({ owner, repo, comment_id: keep.id, body }));
        let removed = 0;
        for (const c of extra) {
            try {
                await github.call((o) => o.rest.issues.deleteComment({ owner, repo, comment_id: c.id }));
                removed++;
            }
            catch (err) {
                if (!(err instanceof GitHubError))
                    throw err;
            }
        }
        return { ok: true, action: 'updated', id: updated.data.id, url: updated.data.html_url, removed };
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return {
            ok: false,
            status: err.status,
            message: err.githubMessage,
            warning: warningFor(opts.pr, err)
        };
    }
}
const REMOVAL_REASON = {
    closed: 'the pull request was closed',
    merged: 'the pull request was merged',
    expired: 'it expired (no push within its `ttl`)'
};
/** `2026-12-01 12:14 UTC`. */
function formatUtc(at) {
    return Number.isNaN(at.getTime())
        ? 'an unknown time'
        : `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
/**
 * The comment that replaces the preview's report once the preview is gone: the marker of
 * `header` first (so that the next preview of the pull request finds it again), then what was
 * removed, when and why. Names go through untrusted.ts like any other text.
 */
function renderRemovedComment(opts) {
    const { release, namespace } = opts;
    const h = opts.header.trim();
    const title = '### 🧹 Preview removed';
    const heading = h && h !== (release && namespace ? `${release}/${namespace}` : '')
        ? `${title} — ${inline(h, 100)}`
        : title;
    const what = release && namespace
        ? `Release ${codeSpan(release, 100)} in namespace ${codeSpan(namespace, 100)} was removed`
        : release
            ? `Release ${codeSpan(release, 100)} was removed`
            : namespace
                ? `The preview in namespace ${codeSpan(namespace, 100)} was removed`
                : 'The preview was removed';
    const lines = [`${what} at ${formatUtc(opts.removedAt)}: ${REMOVAL_REASON[opts.reason]}.`];
    if (opts.runUrl)
        lines.push(`Removed by ${urlText(opts.runUrl)}.`);
    return `${commentMarker(opts.header)}\n${heading}\n\n${lines.join('\n\n')}\n`;
}
/**
 * Rewrites the run's own comment (same header, same author) to say the preview was removed,
 * keeping its marker. With no such comment, none is posted (`action: 'none'`). Never throws for
 * an answer from GitHub; see upsertComment.
 */
async function markPreviewRemoved(opts) {
    const body = renderRemovedComment({
        header: opts.header,
        removedAt: opts.removedAt,
        reason: opts.reason,
        release: opts.release,
        namespace: opts.namespace,
        runUrl: opts.runUrl
    });
    return upsertComment({ ...opts, body, create: false });
}

;// CONCATENATED MODULE: ./src/report/publish.ts
// Telling people what happened: the diagnostics artifact, the pull-request comment and the job summary.








/**
 * Tells people what happened: diagnostics artifact, pull-request comment, job summary.
 * Each is best effort: a failure here is a warning and never changes the outcome.
 */
async function publish(report, opts, reportPath) {
    const header = opts.commentHeader;
    if (['unhealthy', 'error'].includes(report.status) && opts.diagnosticsArtifact)
        await uploadDiagnostics(report, opts, reportPath);
    await comment(report, opts, header);
    if (opts.jobSummary) {
        try {
            await core/* summary */.z
                .addRaw(renderMarkdown(report, { header, limit: SUMMARY_LIMIT, url: report.preview?.url }), true)
                .write();
        }
        catch (err) {
            core/* warning */.$e(`Could not write the job summary: ${message(err)}`);
        }
    }
}
function message(err) {
    return redact(errorMessage(err));
}
async function comment(report, opts, header) {
    const { comment: mode, githubToken: token } = opts;
    if (mode === 'never' || report.preview?.mode === 'sweep')
        return;
    if (report.preview?.mode === 'teardown')
        return removedComment(report, opts, header);
    const env = process.env;
    const github = token ? new GitHub({ token }) : undefined;
    const lookup = await findPullRequest({
        mode,
        event: report.event ?? '',
        eventPr: report.pullRequest,
        repo: report.repository,
        sha: env['GITHUB_SHA'],
        github
    });
    if (lookup.warning)
        core/* warning */.$e(lookup.warning);
    // After a fix, an `on-failure` comment is brought up to date rather than left saying "unhealthy".
    const refreshOnly = mode === 'on-failure' && report.status === 'healthy' && lookup.pr !== undefined;
    if (!refreshOnly && !decideComment(mode, report.event ?? '', report.status, lookup.pr))
        return;
    if (!token || !report.repository || lookup.pr === undefined) {
        core/* warning */.$e(`Could not comment on the pull request: input 'github-token' is empty`);
        return;
    }
    const body = renderMarkdown(report, {
        header,
        limit: COMMENT_LIMIT,
        marker: commentMarker(header),
        url: report.preview?.url
    });
    const result = await upsertComment({
        token,
        repo: report.repository,
        pr: lookup.pr,
        header,
        body,
        github
    });
    if (!result.ok) {
        core/* warning */.$e(result.warning);
        return;
    }
    if (result.action !== 'none') {
        report.commentUrl = result.url;
        core/* info */.pq(`${result.action} the comment on PR #${lookup.pr}: ${result.url}`);
    }
}
/**
 * A closed pull request: the run's own comment, if there is one, now says the preview was
 * removed and when. None is posted where there was none.
 */
async function removedComment(report, opts, header) {
    const token = opts.githubToken;
    const pr = report.pullRequest;
    if (!token || !report.repository || pr === undefined)
        return;
    if (report.status !== 'removed')
        return;
    const result = await markPreviewRemoved({
        token,
        repo: report.repository,
        pr,
        header,
        removedAt: new Date(report.endedAt ?? Date.now()),
        reason: report.merged ? 'merged' : 'closed',
        release: report.release?.name,
        namespace: report.preview?.namespace,
        runUrl: report.runUrl
    });
    if (!result.ok) {
        core/* warning */.$e(result.warning);
        return;
    }
    if (result.action !== 'none') {
        report.commentUrl = result.url;
        core/* info */.pq(`${result.action} the comment on PR #${pr}: the preview was removed`);
    }
}
async function uploadDiagnostics(report, opts, reportPath) {
    (0,external_node_fs_.writeFileSync)(reportPath, redact(JSON.stringify(report, null, 2)));
    const files = [reportPath];
    if (report.diagnostics?.file)
        files.push(report.diagnostics.file);
    const name = `minikube-preview-${(0,external_node_path_.basename)(opts.outDir).replace(/^minikube-preview-/, '')}`;
    try {
        // Loaded only when there is something to upload: it is most of the bundle.
        const { DefaultArtifactClient } = await Promise.all(/* import() */[__webpack_require__.e(110), __webpack_require__.e(351), __webpack_require__.e(735), __webpack_require__.e(518)]).then(__webpack_require__.bind(__webpack_require__, 56518));
        const { id } = await new DefaultArtifactClient().uploadArtifact(name, files, (0,external_node_path_.dirname)(reportPath), {
            retentionDays: 14
        });
        if (report.diagnostics)
            report.diagnostics.artifactId = id;
        core/* info */.pq(`uploaded diagnostics as artifact ${name}`);
    }
    catch (err) {
        core/* warning */.$e(`Could not upload the diagnostics artifact: ${message(err)}`);
    }
}

;// CONCATENATED MODULE: ./src/report/report-of.ts
// The report as a pure projection of the finished run: its facts and the steps' results.


function reportOf(run, results, endedAt = Date.now()) {
    const report = {
        version: 1,
        status: 'error',
        ...run.facts,
        startedAt: run.startedAt,
        endedAt,
        durationMs: endedAt - run.startedAt,
        tools: [...run.tools.values()],
        cluster: run.cluster,
        images: [...run.images.values()],
        release: run.release,
        workloads: [...run.verdicts],
        healthChecks: [...run.healthChecks],
        helmTest: run.helmTest,
        verify: run.verify,
        diagnostics: run.diagnostics,
        steps: [...results],
        preview: run.preview ? { ...run.preview } : undefined
    };
    report.status = decideStatus(report);
    report.reason = ['healthy', 'removed', 'swept'].includes(report.status)
        ? undefined
        : firstFailure(report);
    return report;
}

;// CONCATENATED MODULE: ./src/report/outputs.ts
/** The action's outputs, as a pure function of the report. */
function outputsOf(report, reportPath) {
    const images = {};
    for (const i of report.images) {
        images[i.name] = {
            reference: i.reference,
            id: i.id,
            pushed: i.pushed,
            digest: i.digest,
            tags: i.tags
        };
    }
    const tools = {};
    for (const t of report.tools)
        tools[t.name] = { version: t.version, path: t.path };
    const paths = {};
    for (const t of report.tools)
        paths[`${t.name}-path`] = t.path;
    return {
        ...paths,
        status: report.status,
        report: reportPath,
        kubeconfig: report.cluster?.kubeconfig ?? '',
        'cluster-ip': report.cluster?.ip ?? '',
        'kubernetes-version': report.cluster?.kubernetesVersion ?? '',
        release: report.release?.name ?? '',
        namespace: report.release?.namespace ?? report.preview?.namespace ?? '',
        revision: report.release?.revision !== undefined ? String(report.release.revision) : '',
        images: JSON.stringify(images),
        tools: JSON.stringify(tools),
        'comment-url': report.commentUrl ?? '',
        url: report.preview?.url ?? '',
        duration: report.durationMs !== undefined ? String(Math.round(report.durationMs / 1000)) : ''
    };
}

// EXTERNAL MODULE: ./node_modules/@actions/io/lib/io.js
var io = __webpack_require__(88701);
;// CONCATENATED MODULE: ./src/tools/kubectl.ts
// kubectl: the argv of each command and the objects it reads back.

/**
 * `kubectl label` / `kubectl annotate` arguments: `key=value` sets, `null` removes (`key-`).
 * Keys and values are the caller's (validated label keys and values); each is one argv item.
 */
function metadataArgs(verb, kind, name, values, namespace) {
    const args = [verb, kind, name, '--overwrite'];
    if (namespace)
        args.push('--namespace', namespace);
    for (const [k, v] of Object.entries(values))
        args.push(v === null ? `${k}-` : `${k}=${v}`);
    return args;
}
/** The namespace manifest `kubectl create -f -` reads from stdin: no name or label on argv. */
function namespaceManifest(name, labels, annotations) {
    return JSON.stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels, annotations }
    });
}
const namespaceInfo = (o) => ({
    ...o.metadata,
    terminating: o.status?.phase === 'Terminating'
});
const ALREADY_EXISTS = /\(AlreadyExists\)|already exists/;
class Kubectl {
    path;
    env;
    sink;
    constructor(path, env, sink) {
        this.path = path;
        this.env = env;
        this.sink = sink;
    }
    getJson(resources, namespace, timeoutMs = 60_000) {
        const args = ['get', resources, '--output', 'json'];
        if (namespace)
            args.push('--namespace', namespace);
        return runJson(this.path, args, { timeoutMs, env: this.env });
    }
    async get(resource, name, namespace) {
        return runJson(this.path, ['get', resource, name, '--namespace', namespace, '--output', 'json'], {
            timeoutMs: 60_000,
            env: this.env
        });
    }
    /** The server's version (`v1.37.0`), or throws when the API server does not answer. */
    async serverVersion(timeoutMs = 30_000) {
        const doc = await runJson(this.path, ['version', '--output', 'json', `--request-timeout=${Math.ceil(timeoutMs / 1000)}s`], { timeoutMs, env: this.env });
        const v = doc.serverVersion?.gitVersion;
        if (!v)
            throw new Error('the API server did not report a version');
        return v;
    }
    async nodesReady() {
        const list = await this.getJson('nodes');
        const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        return { ready, total: list.items.length };
    }
    async text(args, timeoutMs = 60_000) {
        const r = await run(this.path, args, { timeoutMs, env: this.env, allowFailure: true });
        return r.exitCode === 0 ? r.stdout : `${r.stdout}${r.stderr}`;
    }
    describe(kind, name, namespace, timeoutMs = 30_000) {
        return this.text(['describe', kind, name, '--namespace', namespace], timeoutMs);
    }
    logs(pod, namespace, opts) {
        const args = ['logs', pod, '--namespace', namespace, `--tail=${opts.tail ?? 200}`];
        if (opts.container)
            args.push('--container', opts.container);
        else
            args.push('--all-containers=true', '--prefix=true');
        if (opts.previous)
            args.push('--previous');
        return this.text(args, opts.timeoutMs ?? 30_000);
    }
    /** A namespace's metadata, or undefined when there is none of that name. */
    async namespace(name, timeoutMs = 30_000) {
        const args = ['get', 'namespace', name, '--ignore-not-found', '--output', 'json'];
        const { stdout } = await run(this.path, args, { timeoutMs, env: this.env });
        if (stdout.trim() === '')
            return undefined;
        return namespaceInfo(parseJsonOutput(this.path, args, stdout));
    }
    /** Every namespace matching a label selector. */
    async namespaces(selector, timeoutMs = 30_000) {
        const list = await runJson(this.path, ['get', 'namespaces', '--selector', selector, '--output', 'json'], { timeoutMs, env: this.env });
        return list.items.map(namespaceInfo);
    }
    /**
     * Creates a namespace with its labels and annotations in one request. `exists` when another
     * run created it first: that is not an error, the caller reads what is there.
     */
    async createNamespace(name, labels, annotations, timeoutMs = 30_000) {
        const args = ['create', '--filename', '-', '--output', 'name'];
        const r = await run(this.path, args, {
            timeoutMs,
            env: this.env,
            input: namespaceManifest(name, labels, annotations),
            allowFailure: true
        });
        if (r.exitCode === 0)
            return 'created';
        if (ALREADY_EXISTS.test(r.stderr))
            return 'exists';
        throw ToolError.of(this.path, args, r, timeoutMs);
    }
    /** Sets (`value`) and removes (`null`) labels of one object. */
    async label(kind, name, labels, namespace, timeoutMs = 30_000) {
        await run(this.path, metadataArgs('label', kind, name, labels, namespace), {
            timeoutMs,
            env: this.env
        });
    }
    /** Sets (`value`) and removes (`null`) annotations of one object. */
    async annotate(kind, name, annotations, namespace, timeoutMs = 30_000) {
        await run(this.path, metadataArgs('annotate', kind, name, annotations, namespace), {
            timeoutMs,
            env: this.env
        });
    }
    /**
     * Deletes a namespace without waiting for it to finish terminating (its objects go in the
     * background). `absent` when there was none.
     */
    async deleteNamespace(name, timeoutMs = 60_000) {
        const { stdout } = await run(this.path, ['delete', 'namespace', name, '--ignore-not-found', '--wait=false'], { timeoutMs, env: this.env });
        return stdout.trim() === '' ? 'absent' : 'deleted';
    }
    /**
     * Starts `kubectl port-forward` to a local port chosen by kubectl; resolves with that port
     * once forwarding has begun. The caller stops it.
     */
    async portForward(target, remotePort, namespace, lifetimeMs) {
        const bg = await startBackground(this.path, [
            'port-forward',
            target,
            `:${remotePort}`,
            '--namespace',
            namespace,
            '--address',
            '127.0.0.1'
        ], {
            readyPattern: /Forwarding from 127\.0\.0\.1:(\d+)/,
            startTimeoutMs: 30_000,
            lifetimeMs,
            env: this.env
        });
        return { localPort: Number(bg.ready[1]), stop: () => bg.stop(), alive: () => bg.alive };
    }
}

;// CONCATENATED MODULE: ./src/run.ts
// The run context: the one store of facts the stages write while the graph runs, and the tool
// wrappers, built here once. Only stages, main and post see it; the report is projected from it.









function environment(env, slug) {
    const runnerTemp = env['RUNNER_TEMP'] || (0,external_node_path_.join)((0,external_node_os_.homedir)(), '.minikube-preview', 'tmp');
    return {
        workspace: env['GITHUB_WORKSPACE'] || process.cwd(),
        runnerTemp,
        outDir: (0,external_node_path_.join)(runnerTemp, `minikube-preview-${slug}`),
        kubeconfig: env['KUBECONFIG'] || (0,external_node_path_.join)((0,external_node_os_.homedir)(), '.kube', 'config')
    };
}
/** What the steps learn and hand on to each other while the graph runs: each fact held once. */
class RunContext {
    inputs;
    found;
    facts;
    env;
    startedAt;
    mode;
    /** Installed tools, in the order they were (last) installed. */
    tools = new Map();
    helmMajor = 3;
    /** Environment for docker when it builds inside the cluster (`minikube docker-env`). */
    dockerEnv;
    cluster;
    /** The cluster was created by this run (not an existing profile started again). */
    clusterCreated = false;
    rendered;
    /** The images of this run, in the order their builds started. */
    images = new Map();
    release;
    /** The release's workloads, as its manifest names them. */
    workloads = [];
    /** The latest verdicts: on the workloads, or on the hooks when helm itself failed. */
    verdicts = [];
    /** The release's hooks as last seen while helm ran (Jobs and Pods, with their verdicts). */
    hooks = [];
    /** The objects when every workload was first healthy: the stable-for window counts from them. */
    completed;
    hooksManifest = '';
    verify;
    healthChecks = [];
    helmTest;
    diagnostics;
    /** Aborted when the release did not stay healthy: health checks and helm test stop then. */
    unstable = new AbortController();
    /** Epoch ms by which verification and health checks must be done. */
    verifyDeadline;
    /** The objects of the deployed release (its manifest). */
    deployed;
    /** The preview beyond the job: its namespace, URL, deployment, or what teardown/sweep did. */
    preview;
    client;
    constructor(inputs, found, facts, env, startedAt = Date.now(), mode = 'preview') {
        this.inputs = inputs;
        this.found = found;
        this.facts = facts;
        this.env = env;
        this.startedAt = startedAt;
        this.mode = mode;
        this.preview = { mode };
    }
    /** The GitHub API with the run's token, made once; undefined without a token. */
    github() {
        if (!this.inputs.githubToken)
            return undefined;
        this.client ??= new GitHub({ token: this.inputs.githubToken });
        return this.client;
    }
    tool(name) {
        const t = this.tools.get(name);
        if (!t)
            throw new Error(`${name} is not installed`);
        return t.path;
    }
    /** A tool (re)installed: it replaces any earlier one of that name. */
    installed(name, info) {
        this.tools.delete(name);
        this.tools.set(name, info);
    }
    helm(log) {
        return new Helm(this.tool('helm'), undefined, log);
    }
    kubectl(log) {
        return new Kubectl(this.tool('kubectl'), undefined, log);
    }
    minikube(log) {
        return new Minikube(this.tool('minikube'), log);
    }
    /** The runner's docker, talking to the cluster's daemon when the images build inside it. */
    async docker(log) {
        const path = await io/* which */.K7('docker', true);
        const env = this.dockerEnv ? { ...process.env, ...this.dockerEnv } : process.env;
        return new Docker(path, env, log);
    }
    imageReference(name) {
        return `${name}:${this.found.imageTag}`;
    }
    /** Whether anything has failed so far, or what was deployed shows anything wrong. */
    troubled(results) {
        return (results.some((s) => s.status === 'failure') ||
            releaseTroubled({
                workloads: this.verdicts,
                healthChecks: this.healthChecks,
                helmTest: this.helmTest
            }));
    }
}

;// CONCATENATED MODULE: ./src/schedule.ts

/** A step's log: kept while the step runs, shown as one fold when it ends. */
class StepLog {
    text = '';
    static LIMIT = 4 * 1024 * 1024;
    write(chunk) {
        this.text += chunk;
        if (this.text.length > StepLog.LIMIT) {
            this.text = `[… earlier output cut …]\n${this.text.slice(this.text.length - StepLog.LIMIT / 2)}`;
        }
    }
    info(line) {
        this.write(line.endsWith('\n') ? line : `${line}\n`);
    }
    toString() {
        return this.text;
    }
}
/** What a step returns when it found it has nothing to do: it counts as done and is left out of the results. */
const NOT_NEEDED = 'not-needed';
const systemClock = { now: () => Date.now() };
/** A plan whose needs name unknown steps or go round in a circle is a bug, not a user error. */
function checkGraph(steps) {
    const ids = new Set();
    for (const s of steps) {
        if (ids.has(s.id))
            throw new Error(`step '${s.id}' is defined twice`);
        ids.add(s.id);
    }
    for (const s of steps) {
        for (const n of s.needs)
            if (!ids.has(n))
                throw new Error(`step '${s.id}' needs unknown step '${n}'`);
    }
    const state = new Map();
    const byId = new Map(steps.map((s) => [s.id, s]));
    const visit = (id, path) => {
        if (state.get(id) === 'done')
            return;
        if (state.get(id) === 'visiting')
            throw new Error(`steps form a cycle: ${[...path, id].join(' → ')}`);
        state.set(id, 'visiting');
        for (const n of byId.get(id)?.needs ?? [])
            visit(n, [...path, id]);
        state.set(id, 'done');
    };
    for (const s of steps)
        visit(s.id, []);
}
/**
 * Runs every step as soon as all of its needs have succeeded, as many at once as the graph
 * allows. A step whose need failed is `skipped`, naming the step that failed first in its chain.
 * Never throws for a failing step: failures are recorded in the results.
 */
async function runSteps(steps, clock = systemClock, events = {}) {
    checkGraph(steps);
    const results = new Map(steps.map((s) => [s.id, { id: s.id, title: s.title, status: 'pending' }]));
    const running = new Map();
    const omitted = new Set();
    const finished = (id) => {
        const st = results.get(id)?.status;
        return st === 'success' || st === 'failure' || st === 'skipped';
    };
    const launch = (step) => {
        const result = results.get(step.id);
        result.status = 'running';
        result.startedAt = clock.now();
        events.started?.(step, result);
        const log = new StepLog();
        const done = (async () => {
            try {
                const sofar = [...results.values()].filter((r) => r.status !== 'pending');
                if ((await step.run(log, sofar)) === NOT_NEEDED)
                    omitted.add(step.id);
                result.status = 'success';
            }
            catch (err) {
                result.status = 'failure';
                result.reason = errorMessage(err);
            }
            result.endedAt = clock.now();
            result.durationMs = result.endedAt - result.startedAt;
            events.finished?.(step, result, log);
        })();
        running.set(step.id, done);
    };
    for (;;) {
        let progressed = true;
        while (progressed) {
            progressed = false;
            for (const step of steps) {
                const result = results.get(step.id);
                if (result.status !== 'pending' || !step.needs.every(finished))
                    continue;
                const blocker = step.needs
                    .map((n) => results.get(n))
                    .find((r) => r.status !== 'success');
                if (blocker && !step.always) {
                    result.status = 'skipped';
                    result.skippedBecause = blocker.status === 'skipped' ? blocker.skippedBecause : blocker.id;
                    result.reason = `skipped because '${results.get(result.skippedBecause)?.title ?? blocker.title}' failed`;
                    events.finished?.(step, result, new StepLog());
                }
                else {
                    launch(step);
                }
                progressed = true;
            }
        }
        if (running.size === 0)
            break;
        const settledId = await Promise.race([...running.entries()].map(([id, p]) => p.then(() => id)));
        running.delete(settledId);
    }
    return steps.filter((s) => !omitted.has(s.id)).map((s) => results.get(s.id));
}

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(77598);
// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(51455);
// EXTERNAL MODULE: ./node_modules/@actions/tool-cache/lib/tool-cache.js + 2 modules
var tool_cache = __webpack_require__(59805);
;// CONCATENATED MODULE: ./src/tools/download.ts
// Installing minikube, helm and kubectl: download, checksum, tool cache, and where each one came from.







const VERSION = /^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/;
const SHA256 = /^[0-9a-f]{64}$/;
const TEXT_TIMEOUT_MS = 30_000;
/** Pauses between attempts of the small text requests (latest version, checksum). */
const TEXT_RETRY_DELAYS_MS = [1000, 3000];
/** The release architecture of the runner, as the download sites spell it. */
function toolArch(nodeArch = process.arch) {
    if (nodeArch === 'x64')
        return 'amd64';
    if (nodeArch === 'arm64')
        return 'arm64';
    throw new Error(`this runner's architecture '${nodeArch}' is not supported: Minikube, Helm and kubectl are installed for Linux x64 or arm64 only`);
}
function downloadUrls(tool, baseUrl, version, arch) {
    switch (tool) {
        case 'minikube': {
            const url = `${baseUrl}/${version}/minikube-linux-${arch}`;
            return { url, checksumUrl: `${url}.sha256` };
        }
        case 'helm': {
            const url = `${baseUrl}/helm-${version}-linux-${arch}.tar.gz`;
            return { url, checksumUrl: `${url}.sha256sum` };
        }
        case 'kubectl': {
            const url = `${baseUrl}/${version}/bin/linux/${arch}/kubectl`;
            return { url, checksumUrl: `${url}.sha256` };
        }
    }
}
/** Where the newest release is announced: a text file, or for minikube a redirect to the tag. */
function latestUrl(tool, baseUrl) {
    switch (tool) {
        case 'minikube':
            return `${baseUrl.replace(/\/download$/, '')}/latest`;
        case 'helm':
            return `${baseUrl}/helm-latest-version`;
        case 'kubectl':
            return `${baseUrl}/stable.txt`;
    }
}
/**
 * The sha256 a checksum file names: either just the hash (`.sha256`) or `hash  filename`
 * (`.sha256sum`). Returns undefined when the text holds no hash.
 */
function parseChecksum(text) {
    const first = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    return SHA256.test(first) ? first : undefined;
}
/** The version a GitHub `releases/latest` redirect points at (`…/releases/tag/vX.Y.Z`). */
function versionFromTagUrl(location) {
    const m = /\/tag\/([^/?#]+)\/?(?:[?#].*)?$/.exec(location);
    if (!m?.[1])
        return undefined;
    const tag = decodeURIComponent(m[1]);
    return VERSION.test(tag) ? tag : undefined;
}
/** `latest` becomes the concrete version the site announces; a concrete version is returned unchanged. */
async function resolveVersion(tool, baseUrl, version) {
    const wanted = version.trim();
    if (wanted === '')
        throw new Error(`no ${tool} version was given (expected 'vX.Y.Z' or 'latest')`);
    if (wanted.toLowerCase() !== 'latest')
        return wanted;
    const url = latestUrl(tool, baseUrl);
    const what = `the latest ${tool} version`;
    if (tool === 'minikube') {
        const res = await request(url, what, 'manual');
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location) {
            const found = versionFromTagUrl(new URL(location, url).pathname);
            if (found)
                return found;
            throw new Error(`could not find ${what}: ${url} redirected to ${location}, which names no release tag`);
        }
        if (res.ok)
            return versionIn(await res.text(), url, what);
        throw new Error(`could not find ${what}: ${url} answered HTTP ${res.status}`);
    }
    const res = await request(url, what, 'follow');
    if (!res.ok)
        throw new Error(`could not find ${what}: ${url} answered HTTP ${res.status}`);
    return versionIn(await res.text(), url, what);
}
function versionIn(text, url, what) {
    const t = text.trim();
    if (VERSION.test(t))
        return t;
    const shown = t.length > 60 ? `${t.slice(0, 60)}…` : t;
    throw new Error(`could not find ${what}: ${url} answered '${shown}', which is not a version`);
}
/**
 * Puts a tool on PATH: from the runner's tool cache when this version is there, otherwise
 * downloaded, checked against its published sha256, and then cached. Nothing reaches the
 * tool cache before its checksum matched.
 */
async function installTool(tool, opts) {
    const log = opts.log ?? { info: (line) => core/* info */.pq(line) };
    if (process.platform !== 'linux') {
        throw new Error(`${tool} is installed for Linux runners only, this one is '${process.platform}'`);
    }
    const arch = opts.arch ?? toolArch();
    const version = await resolveVersion(tool, opts.baseUrl, opts.version);
    if (opts.version.trim().toLowerCase() === 'latest')
        log.info(`latest ${tool} is ${version}`);
    const found = tool_cache/* find */.I6(tool, version, arch);
    if (found && (0,external_node_fs_.existsSync)((0,external_node_path_.join)(found, tool))) {
        log.info(`${tool} ${version} (${arch}) found in the tool cache: ${found}`);
        core/* addPath */.fM(found);
        return { name: tool, version, path: (0,external_node_path_.join)(found, tool), cached: true };
    }
    const { url, checksumUrl } = downloadUrls(tool, opts.baseUrl, version, arch);
    log.info(`downloading ${tool} ${version} from ${url}`);
    const file = await download(tool, version, url);
    const temp = [file];
    try {
        const checksumText = await fetchText(checksumUrl, `the checksum of ${tool} ${version}`, (status) => httpFailure(tool, version, checksumUrl, status));
        const expected = parseChecksum(checksumText);
        if (!expected) {
            throw new Error(`the checksum file of ${tool} ${version} at ${checksumUrl} holds no sha256 hash`);
        }
        const actual = await sha256(file);
        if (actual !== expected) {
            throw new Error(`checksum mismatch for ${tool} ${version} downloaded from ${url}: expected sha256 ${expected} (from ${checksumUrl}), got ${actual}. The file was discarded.`);
        }
        log.info(`sha256 ${actual} matches`);
        let dir;
        if (tool === 'helm') {
            const extracted = await tool_cache/* extractTar */.nN(file);
            temp.push(extracted);
            const inner = (0,external_node_path_.join)(extracted, `linux-${arch}`);
            if (!(0,external_node_fs_.existsSync)((0,external_node_path_.join)(inner, 'helm'))) {
                throw new Error(`the archive ${url} has no linux-${arch}/helm inside`);
            }
            dir = await tool_cache/* cacheDir */.e8(inner, tool, version, arch);
        }
        else {
            dir = await tool_cache/* cacheFile */.NJ(file, tool, tool, version, arch);
        }
        const binary = (0,external_node_path_.join)(dir, tool);
        await (0,promises_.chmod)(binary, 0o755);
        core/* addPath */.fM(dir);
        log.info(`${tool} ${version} installed at ${binary}`);
        return { name: tool, version, path: binary, cached: false };
    }
    finally {
        for (const p of temp)
            await (0,promises_.rm)(p, { recursive: true, force: true });
    }
}
function httpFailure(tool, version, url, status) {
    if (status === 404)
        return new Error(`${tool} ${version} was not found at ${url} (is the version right?)`);
    return new Error(`could not download ${tool} ${version} from ${url}: HTTP ${status}`);
}
/** The tool cache's download: streams to RUNNER_TEMP and retries 5xx, 408, 429 and network errors. */
async function download(tool, version, url) {
    try {
        return await tool_cache/* downloadTool */.bq(url);
    }
    catch (err) {
        if (err instanceof tool_cache/* HTTPError */.Hl)
            throw httpFailure(tool, version, url, err.httpStatusCode ?? 0);
        const why = errorMessage(err);
        throw new Error(`could not download ${tool} ${version} from ${url}: ${why}`);
    }
}
async function fetchText(url, what, failure) {
    const res = await request(url, what, 'follow');
    if (!res.ok)
        throw failure(res.status);
    return res.text();
}
function retryable(status) {
    return status >= 500 || status === 408 || status === 429;
}
/** A small GET with a bounded retry on 5xx and network errors; other answers are returned. */
async function request(url, what, redirect) {
    for (let attempt = 0;; attempt++) {
        const pause = TEXT_RETRY_DELAYS_MS[attempt];
        let res;
        try {
            res = await fetch(url, { redirect, signal: AbortSignal.timeout(TEXT_TIMEOUT_MS) });
        }
        catch (err) {
            if (pause === undefined) {
                const why = err instanceof Error ? describeFetchError(err) : String(err);
                throw new Error(`could not get ${what} from ${url}: ${why}`);
            }
            await sleep(pause);
            continue;
        }
        if (!retryable(res.status) || pause === undefined)
            return res;
        await res.body?.cancel();
        await sleep(pause);
    }
}
function describeFetchError(err) {
    const cause = err.cause;
    if (cause instanceof Error && cause.message)
        return cause.message;
    return err.message;
}
function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
function sha256(file) {
    return new Promise((resolve, reject) => {
        const hash = (0,external_node_crypto_.createHash)('sha256');
        (0,external_node_fs_.createReadStream)(file)
            .on('error', reject)
            .on('data', (chunk) => hash.update(chunk))
            .on('end', () => resolve(hash.digest('hex')));
    });
}

;// CONCATENATED MODULE: ./src/stages/cache.ts
// The cache stage: minikube's downloads restored from the Actions cache (post saves them).






/** The minikube cache of one minikube, Kubernetes, driver, container runtime and architecture. */
function cacheKey(run) {
    const i = run.inputs;
    return [
        'minikube-preview',
        i.minikubeVersion,
        i.kubernetesVersion || 'default',
        i.driver,
        containerRuntime(i.imageLoad, i.startArgs),
        toolArch()
    ].join('-');
}
async function restoreCache(run, log) {
    const paths = minikubeCachePaths(minikubeDir(process.env, (0,external_node_os_.homedir)()));
    const key = cacheKey(run);
    state.saveCacheKey(key);
    state.saveCachePaths(paths);
    const cache = await Promise.all(/* import() */[__webpack_require__.e(110), __webpack_require__.e(91)]).then(__webpack_require__.bind(__webpack_require__, 18091)); // loaded only when a cache is used
    if (!cache.isFeatureAvailable()) {
        core/* warning */.$e('The Actions cache service is not available here; minikube will download its images');
        return;
    }
    try {
        const hit = await cache.restoreCache(paths, key);
        state.saveCacheHit(hit === key);
        log.info(hit ? `restored ${paths.join(', ')} from cache ${hit}` : `no cache for ${key} yet`);
    }
    catch (err) {
        core/* warning */.$e(`Could not restore the minikube cache: ${errorMessage(err)}`);
    }
}

;// CONCATENATED MODULE: ./src/stages/install.ts
// The install stage: minikube, helm and kubectl from the tool cache or a verified download.






async function install(run, tool, log) {
    const i = run.inputs;
    let version;
    let baseUrl;
    if (tool === 'minikube') {
        version = i.minikubeVersion;
        baseUrl = i.minikubeBaseUrl;
    }
    else if (tool === 'helm') {
        version = i.helmVersion;
        baseUrl = i.helmBaseUrl;
    }
    else {
        // Known before the cluster starts, or read from the running cluster.
        version = kubectlVersionFor(i) ?? run.cluster?.kubernetesVersion ?? 'latest';
        version = version.replace(/\+.*$/, '');
        baseUrl = i.kubectlBaseUrl;
    }
    await installVersion(run, tool, version, baseUrl, log);
}
async function installVersion(run, tool, version, baseUrl, log) {
    // installTool tells the log where the tool came from.
    const info = await installTool(tool, { baseUrl, version, log });
    run.installed(tool, info);
    if (tool === 'minikube')
        state.saveMinikubePath(info.path);
    if (tool === 'helm') {
        state.saveHelmPath(info.path);
        run.helmMajor = parseHelmVersion(info.version).major;
    }
    if (tool === 'kubectl')
        state.saveKubectlPath(info.path);
}
/**
 * An existing cluster's version is only known once kubectl has asked it: unless
 * `kubectl-version` was given, a kubectl of the cluster's own version replaces the first one.
 */
async function matchKubectl(run, serverVersion, log) {
    const release = /^v\d+\.\d+\.\d+/.exec(serverVersion)?.[0];
    const current = run.tools.get('kubectl')?.version;
    if (run.inputs.kubectlVersion || !release || release === current)
        return;
    try {
        await installVersion(run, 'kubectl', release, run.inputs.kubectlBaseUrl, log);
    }
    catch (err) {
        const why = errorMessage(err);
        core/* warning */.$e(`Keeping kubectl ${current} for the cluster's ${serverVersion}: ${why}`);
    }
}

;// CONCATENATED MODULE: ./src/stages/cluster.ts
// The cluster stage: start minikube (retried once after a delete) or connect to an existing
// cluster, and enable the addons.





async function startCluster(run, log) {
    if (run.inputs.cluster === 'minikube') {
        run.cluster = await startMinikube(run, log);
        return;
    }
    run.cluster = await connect(run, log);
    const version = run.cluster.kubernetesVersion;
    if (version)
        await matchKubectl(run, version, log);
}
function startOptions(run) {
    const i = run.inputs;
    return {
        driver: i.driver,
        cpus: i.cpus,
        memory: i.memory,
        nodes: i.nodes,
        kubernetesVersion: i.kubernetesVersion,
        containerRuntime: i.imageLoad === 'docker-env' ? 'docker' : undefined,
        waitTimeoutMs: i.clusterTimeoutMs,
        extraArgs: i.startArgs
    };
}
async function startMinikube(run, log) {
    const minikube = run.minikube(log);
    const options = startOptions(run);
    const timeout = run.inputs.clusterTimeoutMs;
    state.saveClusterStarted();
    try {
        run.clusterCreated = createdCluster(await minikube.start(options, timeout));
    }
    catch (first) {
        const why = startFailure(first);
        log.info(`minikube start failed (${why}); deleting the cluster and trying once more`);
        core/* warning */.$e(`minikube start failed, retrying once after 'minikube delete': ${why}`);
        await minikube
            .delete()
            .catch((err) => log.info(`minikube delete failed: ${String(err)}`));
        try {
            await minikube.start(options, timeout);
            // After `minikube delete` there is nothing to reuse.
            run.clusterCreated = true;
        }
        catch (second) {
            throw new Error(startFailure(second));
        }
    }
    const [ip, version] = await Promise.all([minikube.ip(), minikube.kubernetesVersion()]);
    if (run.inputs.imageLoad === 'docker-env')
        run.dockerEnv = await minikube.dockerEnv();
    log.info(`minikube is running at ${ip}${version ? ` with Kubernetes ${version}` : ''}`);
    return {
        kind: 'minikube',
        ip,
        kubernetesVersion: version,
        driver: run.inputs.driver,
        nodes: run.inputs.nodes,
        kubeconfig: run.env.kubeconfig
    };
}
/** `cluster: existing`: whatever the current kubeconfig points at. Nothing is started. */
async function connect(run, log) {
    const kubectl = run.kubectl();
    let version;
    try {
        version = await kubectl.serverVersion(30_000);
    }
    catch (err) {
        const why = errorMessage(err);
        throw new Error(`the cluster in ${run.env.kubeconfig} does not answer: ${why}`);
    }
    const nodes = await kubectl.nodesReady().catch(() => undefined);
    log.info(`connected to Kubernetes ${version}${nodes ? `, ${nodes.ready}/${nodes.total} nodes Ready` : ''}`);
    return {
        kind: 'existing',
        kubernetesVersion: version,
        nodes: nodes?.total,
        kubeconfig: run.env.kubeconfig
    };
}
async function enableAddons(run, log) {
    const names = [...run.inputs.addons.names];
    if (run.inputs.addons.auto &&
        run.rendered?.some((o) => o.kind === 'Ingress') &&
        !names.includes('ingress')) {
        log.info('the chart has an Ingress: enabling the ingress addon');
        names.push('ingress');
    }
    const minikube = run.minikube(log);
    // One at a time: minikube serialises addon changes on its profile.
    for (const name of names)
        await minikube.enableAddon(name, run.inputs.clusterTimeoutMs);
    if (run.cluster)
        run.cluster.addons = names;
    if (names.length === 0)
        log.info('no addons to enable');
}

;// CONCATENATED MODULE: ./src/diagnostics/collect.ts
// What someone would look at first when a preview fails: the namespace's events, the
// unhealthy pods (describe, logs, previous logs), the release's status and history, and
// minikube's own problems when there is no cluster to ask. Bounded in time and size, redacted,
// and never throwing: a command that fails becomes a section that says so.




const DEFAULT_MAX_BYTES = 512 * 1024;
const DEFAULT_TAIL_LINES = 200;
const MAX_PODS = 10;
const CONCURRENCY = 4;
const KiB = 1024;
class OutOfTime extends Error {
}
/** Settles with the promise, or rejects once `ms` have passed (the program's own timeout ends it). */
function within(p, ms) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new OutOfTime(`not collected within ${formatMs(ms)}`)), ms);
        p.then((v) => {
            clearTimeout(timer);
            resolve(v);
        }, (err) => {
            clearTimeout(timer);
            reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
}
// ---- events ----
function eventTime(e) {
    return (e.lastTimestamp ??
        e.series?.lastObservedTime ??
        e.eventTime ??
        e.firstTimestamp ??
        e.metadata?.creationTimestamp ??
        undefined);
}
/** `time  type  reason  object  message` per event, oldest first. */
function formatEvents(events) {
    const dated = events.map((e, i) => {
        const time = eventTime(e);
        const ms = time ? Date.parse(time) : NaN;
        return { e, i, time, ms: Number.isNaN(ms) ? -Infinity : ms };
    });
    dated.sort((a, b) => a.ms - b.ms || a.i - b.i);
    return dated
        .map(({ e, time }) => {
        const when = time ? time.replace(/\.\d+(Z|[+-]\d\d:\d\d)$/, '$1') : '-';
        const obj = `${e.involvedObject?.kind ?? '?'}/${e.involvedObject?.name ?? '?'}`;
        const count = e.series?.count ?? e.count ?? 1;
        const msg = (e.message ?? '').replace(/\s+/g, ' ').trim();
        return [
            when,
            e.type ?? '-',
            e.reason ?? '-',
            obj,
            `${msg}${count > 1 ? ` (x${count})` : ''}`
        ].join('  ');
    })
        .join('\n');
}
function containersOf(pod) {
    const statuses = [
        ...(pod.status?.initContainerStatuses ?? []),
        ...(pod.status?.containerStatuses ?? [])
    ];
    const find = (name) => statuses.find((s) => s.name === name);
    // The API server requires a container name; `''` only keeps the types honest.
    return [
        ...(pod.spec?.initContainers ?? []).map((c) => ({
            name: c.name ?? '',
            init: true,
            status: find(c.name ?? '')
        })),
        ...(pod.spec?.containers ?? []).map((c) => ({
            name: c.name ?? '',
            init: false,
            status: find(c.name ?? '')
        }))
    ];
}
function hasPrevious(c) {
    return (c.status?.restartCount ?? 0) > 0 || c.status?.lastState?.terminated !== undefined;
}
/** Whether the container has ever run, so that asking for its logs makes sense. */
function hasRun(c) {
    return c.status?.state?.waiting === undefined || hasPrevious(c);
}
function containerHeading(c) {
    return `--- ${c.init ? 'init container' : 'container'} ${c.name} ---`;
}
// ---- size ----
/** `text` in at most `limit` bytes: its end (logs, events) or its start and end (describe). */
function fitBytes(text, limit, keep) {
    const size = byteLength(text);
    if (size <= limit)
        return text;
    const buf = Buffer.from(text, 'utf8');
    const marker = (omitted) => `\n[… ${omitted} bytes not shown …]\n`;
    const room = limit - byteLength(marker(size));
    if (room < 32)
        return utf8Head(buf, limit);
    if (keep === 'tail')
        return marker(size - room).trimStart() + utf8Tail(buf, room);
    const first = Math.floor(room / 3);
    return utf8Head(buf, first) + marker(size - room) + utf8Tail(buf, room - first);
}
/**
 * Shares `maxBytes` out among the sections: small ones keep everything, the large ones
 * split what is left equally.
 */
function shareOut(sections, maxBytes) {
    const remaining = Math.max(0, maxBytes - sections.reduce((n, s) => n + byteLength(s.title), 0));
    const allowed = shareBytes(sections.map((s) => byteLength(s.body)), remaining);
    return sections.map((s, i) => ({
        title: s.title,
        body: fitBytes(s.body, allowed[i], s.keep)
    }));
}
// ---- collection ----
async function runAll(planned, deadline) {
    const out = new Array(planned.length);
    let next = 0;
    const worker = async () => {
        while (next < planned.length) {
            const i = next++;
            const p = planned[i];
            const left = deadline - Date.now();
            let body;
            if (left <= 0) {
                body = 'not collected: the time for diagnostics ran out';
            }
            else {
                try {
                    body = await within(p.collect(left), left);
                }
                catch (err) {
                    body = errorMessage(err);
                }
            }
            // Redact before cutting to size: a cut could leave part of a secret that no longer matches.
            out[i] = { title: redact(p.title), body: fitBytes(redact(body), p.cap, p.keep), keep: p.keep };
        }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, planned.length) }, worker));
    return out;
}
function podSections(kubectl, namespace, pod, tailLines) {
    let podJson;
    const getPod = () => (podJson ??= kubectl.get('pod', pod, namespace).catch(() => undefined));
    const logsOf = async (previous, timeoutMs) => {
        const json = await within(getPod(), timeoutMs);
        if (!json) {
            // The pod could not be read (gone, or no API server): ask for every container at once.
            return kubectl.logs(pod, namespace, { previous, tail: tailLines });
        }
        const containers = containersOf(json).filter((c) => (previous ? hasPrevious(c) : true));
        if (containers.length === 0)
            return previous ? 'no container of this pod has restarted' : 'the pod has no containers';
        const blocks = [];
        for (const c of containers) {
            if (!previous && !hasRun(c)) {
                const why = c.status?.state?.waiting?.reason;
                blocks.push(`${containerHeading(c)}\n(not started yet${why ? `: ${why}` : ''})`);
                continue;
            }
            const text = await kubectl
                .logs(pod, namespace, { previous, tail: tailLines, container: c.name })
                .catch((err) => `kubectl logs failed: ${errorMessage(err)}`);
            blocks.push(`${containerHeading(c)}\n${text.trimEnd() || '(no output)'}`);
        }
        return blocks.join('\n');
    };
    return [
        {
            title: `Pod ${pod}: describe`,
            cap: 48 * KiB,
            keep: 'both',
            collect: async (t) => {
                const out = await kubectl.describe('pod', pod, namespace, t);
                return out.trim() === '' ? 'kubectl describe printed nothing' : out;
            }
        },
        { title: `Pod ${pod}: logs`, cap: 96 * KiB, keep: 'tail', collect: (t) => logsOf(false, t) },
        {
            title: `Pod ${pod}: logs (previous)`,
            cap: 64 * KiB,
            keep: 'tail',
            collect: (t) => logsOf(true, t)
        }
    ];
}
function helmSection(title, call) {
    return {
        title,
        cap: 16 * KiB,
        keep: 'tail',
        collect: async () => {
            const r = await call();
            if (r.exitCode === 0)
                return r.stdout;
            return `${title} failed with exit code ${r.exitCode}:\n${(r.stderr || r.stdout).trim()}`;
        }
    };
}
/** What diagnostics hold, in the order the report shows it. */
const SECTIONS = [
    {
        what: 'the events of the namespace',
        plan: ({ opts: { kubectl, namespace }, cluster }) => kubectl
            ? [
                {
                    title: `Events in ${namespace}`,
                    cap: 96 * KiB,
                    keep: 'tail',
                    collect: async (t) => {
                        let list;
                        try {
                            list = await kubectl.getJson('events', namespace, t);
                        }
                        catch (err) {
                            throw new Error(`kubectl get events failed: ${errorMessage(err)}`);
                        }
                        cluster.answered = true;
                        return list.items.length > 0
                            ? formatEvents(list.items)
                            : `no events in namespace ${namespace}`;
                    }
                }
            ]
            : []
    },
    {
        what: `describe, logs and previous logs of the first ${MAX_PODS} unhealthy pods`,
        plan: ({ opts: { kubectl, namespace, unhealthyPods }, tailLines }) => kubectl
            ? [...new Set(unhealthyPods)]
                .slice(0, MAX_PODS)
                .flatMap((pod) => podSections(kubectl, namespace, pod, tailLines))
            : []
    },
    {
        what: 'the names of the other unhealthy pods',
        plan: ({ opts: { kubectl, unhealthyPods } }) => {
            const rest = [...new Set(unhealthyPods)].slice(MAX_PODS);
            if (!kubectl || rest.length === 0)
                return [];
            return [
                {
                    title: `${rest.length} more unhealthy pods`,
                    cap: 4 * KiB,
                    keep: 'tail',
                    collect: async () => `not described, to keep diagnostics short: ${rest.join(', ')}`
                }
            ];
        }
    },
    {
        what: 'the status of the release',
        plan: ({ opts: { helm, release, namespace } }) => helm && release
            ? [helmSection(`helm status ${release}`, () => helm.status(release, namespace))]
            : []
    },
    {
        what: 'the history of the release',
        plan: ({ opts: { helm, release, namespace } }) => helm && release
            ? [helmSection(`helm history ${release}`, () => helm.history(release, namespace))]
            : []
    },
    {
        // No cluster to ask (it did not start, or its API server does not answer): minikube knows why.
        what: "minikube's problems",
        whenNoCluster: true,
        plan: ({ opts: { minikube } }) => minikube
            ? [
                {
                    title: 'minikube logs --problems',
                    cap: 128 * KiB,
                    keep: 'tail',
                    collect: async (t) => {
                        const r = await minikube.logs(t);
                        const out = `${r.stdout}${r.stderr}`.trim();
                        if (r.exitCode !== 0)
                            return `minikube logs --problems failed with exit code ${r.exitCode}:\n${out}`;
                        return out === '' ? 'minikube reported no problems' : out;
                    }
                }
            ]
            : []
    }
];
/**
 * Gathers diagnostics for a failed run, as `SECTIONS` lists them. Never throws; every failure
 * to collect something is reported in the section it would have filled.
 */
async function collectDiagnostics(opts) {
    try {
        const c = {
            opts,
            tailLines: opts.tailLines ?? DEFAULT_TAIL_LINES,
            cluster: { answered: false }
        };
        const collect = (whenNoCluster) => runAll(SECTIONS.filter((row) => (row.whenNoCluster ?? false) === whenNoCluster).flatMap((row) => row.plan(c)), opts.deadline);
        const sections = await collect(false);
        if (!c.cluster.answered)
            sections.push(...(await collect(true)));
        return shareOut(sections, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    }
    catch (err) {
        return [
            { title: 'Diagnostics', body: redact(`could not collect diagnostics: ${errorMessage(err)}`) }
        ];
    }
}
/** Writes the sections to a plain-text file in a new directory under `dir`; returns its path. */
function writeDiagnosticsFile(sections, dir) {
    (0,external_node_fs_.mkdirSync)(dir, { recursive: true });
    const file = (0,external_node_path_.join)((0,external_node_fs_.mkdtempSync)((0,external_node_path_.join)(dir, 'minikube-preview-diagnostics-')), 'diagnostics.txt');
    const text = sections.map((s) => `===== ${s.title} =====\n${s.body.trimEnd()}\n`).join('\n');
    (0,external_node_fs_.writeFileSync)(file, redact(text));
    return file;
}

;// CONCATENATED MODULE: ./src/stages/diagnose.ts
// The diagnose stage: runs whatever happened before it, and collects events, descriptions,
// logs and helm's view of the release only when something failed or is not healthy.


async function diagnose(run, log, results) {
    if (!run.troubled(results)) {
        log.info('nothing failed; no diagnostics needed');
        return;
    }
    // helm status and history tell the most when the release did not deploy: ask once helm ran.
    const helmRan = results.some((s) => s.id === 'deploy' && s.startedAt !== undefined);
    // The hooks' pods: all of them when helm failed, otherwise those that are not healthy.
    const hookPods = wasDeployed({ steps: results })
        ? run.hooks.flatMap((h) => h.unhealthyPods)
        : run.hooks.flatMap((h) => h.pods);
    const sections = await collectDiagnostics({
        kubectl: run.tools.has('kubectl') && run.cluster ? run.kubectl() : undefined,
        helm: helmRan && run.tools.has('helm') ? run.helm() : undefined,
        minikube: run.tools.has('minikube') ? run.minikube() : undefined,
        namespace: run.inputs.namespace,
        release: helmRan ? run.found.release : undefined,
        unhealthyPods: [...run.verdicts.flatMap((w) => w.unhealthyPods), ...hookPods],
        deadline: Date.now() + 90_000
    });
    const file = writeDiagnosticsFile(sections, run.env.outDir);
    run.diagnostics = { sections, file };
    for (const s of sections)
        log.info(`── ${s.title} ──\n${s.body}`);
}

;// CONCATENATED MODULE: ./src/images/cache.ts
// The layer cache of image builds: which backend this run uses, and the `--cache-from` /
// `--cache-to` arguments BuildKit gets for one image. Pure functions of the inputs and env.

/** Whether the runner's cache service is there: buildx reads these two to reach it. */
function ghaAvailable(env) {
    return Boolean(env['ACTIONS_RESULTS_URL'] && env['ACTIONS_RUNTIME_TOKEN']);
}
/** The cache this run uses: `auto` is `gha` when the runner's cache service is there, else none. */
function resolveBuildCache(input, ref, env) {
    if (input === 'registry' || input === 'local')
        return { kind: input, ref };
    const ignored = ref
        ? `input 'build-cache-ref' is only used with 'build-cache: registry' or 'local'; it is ignored with '${input}'`
        : undefined;
    if (input === 'gha' && !ghaAvailable(env)) {
        return {
            kind: 'none',
            warning: [
                "build-cache: gha needs the runner's cache service (ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN are not set): building without a layer cache",
                ignored
            ]
                .filter(Boolean)
                .join('; ')
        };
    }
    const kind = input === 'auto' ? (ghaAvailable(env) ? 'gha' : 'none') : input;
    return ignored ? { kind, warning: ignored } : { kind };
}
/** One token per image for scopes, tags and folder names: `org/app` → `org-app`. */
function cacheScope(imageName) {
    return imageName.replace(/[^A-Za-z0-9_.-]+/g, '-');
}
/**
 * `--cache-from` and `--cache-to` for one image. Every image has its own scope; `mode=max`
 * keeps the layers of every stage, not just the final one. `ignore-error=true` makes a cache
 * that cannot be written a failed export step in the output (reported as a warning), not a
 * failed build. A cache that cannot be read is always only a cache miss for BuildKit.
 */
function cacheArgs(cache, imageName) {
    const scope = cacheScope(imageName);
    let from;
    let to;
    switch (cache.kind) {
        case 'none':
            return [];
        case 'gha':
            from = `type=gha,scope=${scope}`;
            to = `type=gha,scope=${scope},mode=max`;
            break;
        case 'registry':
            from = `type=registry,ref=${cache.ref}:${scope}`;
            to = `type=registry,ref=${cache.ref}:${scope},mode=max`;
            break;
        case 'local': {
            const dir = (0,external_node_path_.join)(cache.ref, scope);
            from = `type=local,src=${dir}`;
            to = `type=local,dest=${dir},mode=max`;
            break;
        }
    }
    return ['--cache-from', from, '--cache-to', `${to},ignore-error=true`];
}
/** Where one image's local cache lives (to tell a first run from a cache that cannot be read). */
function localCacheDir(cache, imageName) {
    return cache.kind === 'local' && cache.ref ? (0,external_node_path_.join)(cache.ref, cacheScope(imageName)) : undefined;
}

;// CONCATENATED MODULE: ./src/images/builder.ts
// The buildx builder of this run's image builds: the one named by `builder`, or one created for
// the layer cache (and removed in post), or none (plain `docker build`).




const BUILDER_TIMEOUT_MS = 5 * 60_000;
/** A name no other job on the same machine picks: run, attempt and process. */
function builderName(env, pid = process.pid) {
    const run = [env['GITHUB_RUN_ID'], env['GITHUB_RUN_ATTEMPT']].filter(Boolean).join('-');
    return `minikube-preview-${run ? `${run}-` : ''}${pid}`;
}
async function buildSetup(i, docker, log) {
    const cache = resolveBuildCache(i.buildCache, i.buildCacheRef, process.env);
    if (cache.warning)
        core/* warning */.$e(cache.warning);
    if (i.builder) {
        log.info(`building on the buildx builder '${i.builder}'`);
        return { cache, builder: i.builder, created: false };
    }
    if (cache.kind === 'none')
        return { cache, created: false };
    const name = builderName(process.env);
    try {
        // Saved before they exist: post removes a half-created builder too.
        state.saveDockerPath(docker.path);
        let endpoint;
        if (i.dockerEnv) {
            // The builder runs in the cluster's Docker, so `--load` puts images where pods find them.
            state.saveDockerContext(name);
            await docker.createContext(name, i.dockerEnv);
            endpoint = name;
        }
        state.saveBuilder(name);
        await docker.createBuilder(name, BUILDER_TIMEOUT_MS, endpoint);
        log.info(`created the docker-container builder '${name}' for the ${cache.kind} layer cache`);
        return { cache, builder: name, created: true };
    }
    catch (err) {
        const why = errorMessage(err);
        core/* warning */.$e(`Could not create a buildx builder for the ${cache.kind} layer cache; building without a cache: ${why}`);
        return { cache: { kind: 'none' }, created: false };
    }
}

;// CONCATENATED MODULE: ./src/images/progress.ts
// What BuildKit's `--progress=plain` output says about a build: how many Dockerfile steps ran and
// how many came from the cache, which step failed and its last lines, a base image that could not
// be pulled, and cache imports or exports that failed without failing the build. Pure: text in,
// facts out. The text is written by the Dockerfile's commands, so it is hostile: it is only ever
// cut into lines here, never interpreted beyond the `#N` framing BuildKit puts around it.
const FRAMED = /^#(\d+) (.*)$/;
/** `[builder 4/5] RUN …`, `[2/3] COPY …`, `[stage-1 1/2] FROM …`. */
const DOCKERFILE_STEP = /^\[(?:[^\]\s]+ )?\d+\/\d+\] (\S+)/;
/** BuildKit prefixes a step's log lines with the seconds since the step started. */
const LOG_TIME = /^\d+\.\d{3} /;
const MAX_LINES = 20;
function isCacheImport(name) {
    return name.startsWith('importing cache manifest from ');
}
/** BuildKit's cache exporters: `exporting cache to registry|client directory|…`, and gha's own name. */
function isCacheExport(name) {
    return name.startsWith('exporting cache to ') || name === 'exporting to GitHub Actions Cache';
}
function stripTime(line) {
    return line.replace(LOG_TIME, '');
}
/** Reads plain progress output (stdout and stderr of `docker build --progress=plain`). */
function parseBuildOutput(text) {
    const lines = text.split(/\r?\n/).map((l) => l.replace(/\s+$/, ''));
    const byIndex = new Map();
    const order = [];
    const cacheWarnings = [];
    let finalError;
    // The summary block(s) buildx prints after a failure: `------` / ` > [step]:` / lines / `------`.
    const blocks = new Map();
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        const framed = FRAMED.exec(line);
        if (framed) {
            const index = Number(framed[1]);
            const rest = framed[2];
            if (index === 0)
                continue; // `#0 building with "default" instance using docker driver`
            let v = byIndex.get(index);
            if (!v) {
                v = { index, name: rest, state: 'running', logs: [] };
                byIndex.set(index, v);
                order.push(v);
                continue;
            }
            if (rest === 'CACHED')
                v.state = 'cached';
            else if (rest === 'CANCELED')
                v.state = 'canceled';
            else if (/^DONE( \d+(\.\d+)?s)?$/.test(rest))
                v.state = 'done';
            else if (rest.startsWith('ERROR: ')) {
                v.state = 'error';
                v.error = rest.slice('ERROR: '.length);
            }
            else if (rest === '...' || rest === v.name) {
                // the printer switching between interleaved vertices, or repeating the name
            }
            else
                v.logs.push(stripTime(rest));
            continue;
        }
        if (line === '------' && / > (.+):$/.test(lines[i + 1] ?? '')) {
            const step = /^ > (.+):$/.exec(lines[i + 1])[1];
            const body = [];
            let j = i + 2;
            for (; j < lines.length && lines[j] !== '------'; j++)
                body.push(lines[j]);
            blocks.set(step, body.map(stripTime).filter((l) => l.trim() !== ''));
            i = j;
            continue;
        }
        // buildx prints its client's warnings as `WARNING: …` (logrus, util/logutil).
        const warning = /^WARN(?:ING)?: (.*\bcache (?:import|export)\b.*)$/i.exec(line);
        if (warning) {
            cacheWarnings.push(warning[1]);
            continue;
        }
        if (line.startsWith('ERROR: '))
            finalError = line;
    }
    const stepsRun = order.filter((v) => {
        const m = DOCKERFILE_STEP.exec(v.name);
        return m !== null && m[1] !== 'FROM';
    });
    const cached = stepsRun.filter((v) => v.state === 'cached').length;
    const cacheImport = [];
    const cacheExport = [];
    for (const v of order) {
        if (v.state !== 'error' || v.error === undefined)
            continue;
        if (isCacheImport(v.name))
            cacheImport.push({ what: v.name, error: v.error });
        else if (isCacheExport(v.name))
            cacheExport.push({ what: v.name, error: v.error });
    }
    const failedVertex = order.find((v) => v.state === 'error' && !isCacheImport(v.name) && !isCacheExport(v.name));
    let failed;
    let missingBase;
    if (failedVertex) {
        const block = blocks.get(failedVertex.name) ?? [];
        const lines = block.length > 0 ? block : failedVertex.logs;
        failed = {
            step: failedVertex.name,
            error: failedVertex.error ?? '',
            lines: lines.slice(-MAX_LINES)
        };
        const base = /^\[internal\] load metadata for (\S+)$/.exec(failedVertex.name)?.[1] ??
            /^\[(?:[^\]\s]+ )?\d+\/\d+\] FROM (\S+)/.exec(failedVertex.name)?.[1];
        if (base)
            missingBase = { image: base.replace(/@sha256:[0-9a-f]+$/, ''), error: failed.error };
    }
    return {
        vertices: order,
        steps: stepsRun.length,
        cached,
        failed,
        missingBase,
        cacheImport,
        cacheExport,
        cacheWarnings,
        finalError
    };
}
/** The error of a failed build in the words a reader needs: what failed, then its last lines. */
function describeFailure(reference, exitCode, p) {
    if (p.missingBase) {
        return `docker build of ${reference} failed: the base image ${p.missingBase.image} could not be pulled: ${p.missingBase.error}`;
    }
    if (p.failed) {
        const head = `docker build of ${reference} failed at ${p.failed.step}: ${p.failed.error}`;
        return [head, ...p.failed.lines].join('\n');
    }
    const why = p.finalError?.replace(/^ERROR: /, '') ?? `exit code ${exitCode}`;
    return `docker build of ${reference} failed (exit code ${exitCode}): ${why}`;
}

;// CONCATENATED MODULE: ./src/stages/images.ts
// The images stage: each image built (buildx with its layer cache, or docker build) while the
// cluster starts, then loaded onto the cluster's nodes unless it was built inside the cluster.











const BUILD_TIMEOUT_MS = 30 * 60_000;
const images_LOAD_TIMEOUT_MS = 15 * 60_000;
/** Where tarballs and buildx metadata of this run's images go. */
function imagesDir(run) {
    return (0,external_node_path_.join)(run.env.runnerTemp, 'minikube-preview-images');
}
// Images build at the same time; they share one cache decision and one builder.
const setups = new WeakMap();
function sharedSetup(run, docker, log) {
    let setup = setups.get(run);
    if (!setup) {
        const i = run.inputs;
        const options = {
            builder: i.builder,
            buildCache: i.buildCache,
            buildCacheRef: i.buildCacheRef,
            dockerEnv: run.dockerEnv
        };
        setup = buildSetup(options, docker, log);
        setups.set(run, setup);
    }
    return setup;
}
async function buildImage(run, image, log) {
    const docker = await run.docker(log);
    const setup = await sharedSetup(run, docker, log);
    const cache = usableCache(setup.cache, image.name);
    const reference = run.imageReference(image.name);
    // An existing cluster pulls from the registry: the build pushes `<registry>/<name>:<tag>`.
    const pushTo = registryPush(run.inputs) === 'at-build'
        ? pushedReference(run.inputs.registry, image.name, run.found.imageTag)
        : undefined;
    const info = {
        name: image.name,
        reference,
        delivery: run.dockerEnv ? 'docker-env' : undefined
    };
    if (cache.kind !== 'none')
        info.cache = cache.kind;
    run.images.set(image.name, info);
    let metadataFile;
    let argsWith = (_cache) => buildArgs(image, reference);
    let pushedByBuilder = false;
    if (setup.builder) {
        const builder = setup.builder;
        const dir = imagesDir(run);
        (0,external_node_fs_.mkdirSync)(dir, { recursive: true });
        const base = (0,external_node_path_.join)(dir, cacheScope(image.name));
        const metadata = `${base}.metadata.json`;
        metadataFile = metadata;
        pushedByBuilder = pushTo !== undefined;
        // With docker-env the cluster's Docker is the daemon: load into it. Otherwise a tarball
        // that `minikube image load` reads, without a round trip through the runner's daemon.
        if (!run.dockerEnv && !pushTo)
            info.tarball = `${base}.tar`;
        // Left by an earlier job on the same runner: never to be taken for this build's output.
        for (const f of [metadata, `${base}.tar`])
            (0,external_node_fs_.rmSync)(f, { force: true });
        argsWith = (cache) => buildxArgs(image, pushedByBuilder && pushTo ? pushTo : reference, {
            builder,
            cacheArgs: cacheArgs(cache, image.name),
            output: pushedByBuilder ? 'push' : info.tarball ? { tarball: info.tarball } : 'load',
            metadataFile: metadata
        });
    }
    const firstLocalRun = isFirstLocalRun(cache, image.name);
    const started = Date.now();
    let result = await docker.build(argsWith(cache), BUILD_TIMEOUT_MS);
    let output = `${result.stdout}\n${result.stderr}`;
    const unsupported = /((?:Cache export|Docker exporter) is not supported for the \S+ driver)/.exec(output)?.[1];
    // BuildKit fails the whole build when it cannot even set a cache up (a bad token, a ref it
    // refuses): that is a cache that cannot be written, so a warning and a build without it.
    const unusable = /failed to configure \S+ cache (?:exporter|importer): [^\n]*/.exec(output)?.[0];
    if (result.exitCode !== 0 && unsupported) {
        // A builder named by `builder` may use the docker driver: no cache export, no tarball.
        core/* warning */.$e(`The builder '${setup.builder}' cannot keep a layer cache or export a tarball (${unsupported}); building ${image.name} into its daemon without a cache`);
        delete info.cache;
        delete info.tarball;
        // Into its daemon, then pushed from there like a plain docker build.
        pushedByBuilder = false;
        result = await docker.build(argsWith({ kind: 'none' }), BUILD_TIMEOUT_MS);
        output = `${result.stdout}\n${result.stderr}`;
    }
    else if (result.exitCode !== 0 && unusable && cache.kind !== 'none') {
        core/* warning */.$e(`Could not use the ${cache.kind} layer cache of ${image.name}; building without it: ${unusable}`);
        delete info.cache;
        result = await docker.build(argsWith({ kind: 'none' }), BUILD_TIMEOUT_MS);
        output = `${result.stdout}\n${result.stderr}`;
    }
    info.buildMs = Date.now() - started;
    // exec.run redacted the output as it came in, before anything is cut out of it.
    const progress = parseBuildOutput(output);
    info.steps = progress.steps;
    info.cachedSteps = progress.cached;
    if (result.exitCode !== 0) {
        if (progress.failed) {
            info.failedStep = progress.failed.step;
            info.failureLines = progress.failed.lines;
        }
        if (progress.missingBase)
            info.missingBase = progress.missingBase.image;
        throw new Error(describeFailure(reference, result.exitCode, progress));
    }
    warnAboutCache(image.name, progress, firstLocalRun, log);
    const metadataText = metadataFile && (0,external_node_fs_.existsSync)(metadataFile) ? (0,external_node_fs_.readFileSync)(metadataFile, 'utf8') : undefined;
    if (pushedByBuilder && pushTo) {
        // Straight from the builder to the registry: nothing in a daemon or a tarball to inspect.
        info.id = metadataText === undefined ? undefined : metadataImageId(metadataText);
    }
    else if (metadataFile && info.tarball) {
        info.id = metadataText === undefined ? undefined : metadataImageId(metadataText);
        if (!(0,external_node_fs_.existsSync)(info.tarball))
            throw new Error(`docker buildx build of ${reference} wrote no image to ${info.tarball}`);
        info.sizeBytes = (0,external_node_fs_.statSync)(info.tarball).size;
    }
    else {
        const inspected = await docker.inspect(reference);
        info.id = inspected.id;
        info.sizeBytes = inspected.sizeBytes;
    }
    log.info(`built ${pushedByBuilder && pushTo ? pushTo : reference}${info.id ? ` (${info.id.slice(0, 19)})` : ''}: ${progress.cached}/${progress.steps} steps cached`);
    if (!pushTo)
        return;
    const pushed = pushedByBuilder
        ? pushedByBuild(image.name, pushTo, metadataText)
        : await pushImage(docker, {
            registry: run.inputs.registry,
            name: image.name,
            tag: run.found.imageTag,
            source: { image: reference }
        });
    info.pushed = pushed.reference;
    info.digest = pushed.digest;
    log.info(`pushed ${pushed.pinned}`);
}
/**
 * buildx creates a local cache folder before it builds, and fails the build when it cannot:
 * a folder that cannot be made is a warning and a build without that cache.
 */
function usableCache(cache, name) {
    const dir = localCacheDir(cache, name);
    if (!dir)
        return cache;
    try {
        (0,external_node_fs_.mkdirSync)(dir, { recursive: true });
        (0,external_node_fs_.accessSync)(dir, external_node_fs_.constants.W_OK);
        return cache;
    }
    catch (err) {
        const why = errorMessage(err);
        core/* warning */.$e(`Could not use the layer cache folder of ${name}; building without it: ${why}`);
        return { kind: 'none' };
    }
}
/** A local cache folder that does not exist yet is a first run, not a cache that cannot be read. */
function isFirstLocalRun(cache, name) {
    const dir = localCacheDir(cache, name);
    return dir !== undefined && !(0,external_node_fs_.existsSync)((0,external_node_path_.join)(dir, 'index.json'));
}
/** A cache that cannot be read or written costs time, never the build: it is a warning. */
function warnAboutCache(name, progress, firstLocalRun, log) {
    for (const p of progress.cacheImport) {
        // A registry cache tag that does not exist yet is the first build, not a problem.
        if (/not found/i.test(p.error))
            log.info(`no layer cache for ${name} yet (${p.error})`);
        else
            core/* warning */.$e(`Could not read the layer cache of ${name}; building without it: ${p.error}`);
    }
    for (const w of progress.cacheWarnings) {
        if (firstLocalRun)
            log.info(`no layer cache for ${name} yet`);
        else
            core/* warning */.$e(`Could not read the layer cache of ${name}: ${w}`);
    }
    for (const p of progress.cacheExport) {
        core/* warning */.$e(`Could not save the layer cache of ${name} (the image itself is built): ${p.error}`);
    }
}
/**
 * Puts a built image on the cluster's nodes: the tarball the build exported, or the image from
 * the runner's daemon. A cluster that already ran before this job is asked first whether it
 * holds that very image; one this run has just created holds none of ours.
 */
async function loadImage(run, image, log) {
    const info = run.images.get(image.name);
    if (!info || (!info.id && !info.tarball))
        throw new Error(`${image.name} was not built`);
    const minikube = run.minikube(log);
    const started = Date.now();
    if (!run.clusterCreated && info.id && (await minikube.hasImage(info.reference, info.id))) {
        log.info(`${info.reference} (${info.id.slice(0, 19)}) is already on the cluster`);
        info.delivery = 'already-present';
    }
    else {
        await minikube.loadImage(info.tarball ?? info.reference, images_LOAD_TIMEOUT_MS);
        info.delivery = 'loaded';
        // The cluster has it now; the tarball would only fill the runner's disk, unless the push
        // once the preview is healthy reads it (and removes it then).
        if (info.tarball && registryPush(run.inputs) !== 'when-healthy')
            (0,external_node_fs_.rmSync)(info.tarball, { force: true });
    }
    info.loadMs = Date.now() - started;
}

;// CONCATENATED MODULE: ./src/lifecycle/labels.ts
// What marks a preview on the cluster: labels to select it by, annotations to read it back.

const PREFIX = 'minikube-preview/';
const LABEL = {
    /** A short hash of `owner/name` (label values cannot hold a `/`). */
    repository: `${PREFIX}repository`,
    pullRequest: `${PREFIX}pull-request`,
    sha: `${PREFIX}sha`,
    /** Epoch seconds after which `mode: sweep` removes the preview. */
    expires: `${PREFIX}expires`,
    managedBy: 'app.kubernetes.io/managed-by'
};
const ANNOTATION = {
    /** The full `owner/name`, which the hash in the label stands for. */
    repository: `${PREFIX}repository`,
    /** The release deployed into a namespace the action created. */
    release: `${PREFIX}release`,
    /** The expiry as a UTC time, for people (`kubectl describe`); the label is what a sweep reads. */
    expiresAt: `${PREFIX}expires-at`
};
/** The value of `app.kubernetes.io/managed-by` on what the action creates. */
const MANAGED_BY = 'minikube-preview';
const MAX_VALUE = 63;
const VALID_VALUE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
/** Whether `value` is a valid Kubernetes label value (`''` included). */
function isLabelValue(value) {
    return VALID_VALUE.test(value);
}
/**
 * Any text made into a valid label value: characters outside `[A-Za-z0-9._-]` become `-`, the
 * result is cut to 63 characters and trimmed to start and end with a letter or digit.
 */
function labelValue(text) {
    return text
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .slice(0, MAX_VALUE)
        .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}
/**
 * The repository's label value: the first 16 hex digits of the SHA-256 of `owner/name` in lower
 * case (GitHub names are case-insensitive, so `Acme/Shop` and `acme/shop` are one repository).
 */
function repositoryLabel(repository) {
    return (0,external_node_crypto_.createHash)('sha256').update(repository.trim().toLowerCase()).digest('hex').slice(0, 16);
}
/** Epoch seconds `ttlMs` after `nowMs`, or undefined when the preview never expires. */
function expiresAt(nowMs, ttlMs) {
    return ttlMs === undefined ? undefined : Math.floor((nowMs + ttlMs) / 1000);
}
/**
 * The labels of a preview, renewed on each push. `null` removes a label (`kubectl label key-`,
 * `helm --labels key=null`): a preview deployed again without `ttl` stops expiring.
 */
function previewLabels(facts) {
    return {
        [LABEL.repository]: repositoryLabel(facts.repository),
        [LABEL.pullRequest]: facts.pullRequest === undefined ? null : String(facts.pullRequest),
        [LABEL.sha]: facts.sha ? labelValue(facts.sha) || null : null,
        [LABEL.expires]: facts.expiresAt === undefined ? null : String(facts.expiresAt)
    };
}
/** What a namespace the action creates carries besides the preview's labels. */
function createdLabels(repository) {
    return { [LABEL.managedBy]: MANAGED_BY, [LABEL.repository]: repositoryLabel(repository) };
}
/** A namespace's annotations, renewed on each push; `null` removes one (no `ttl` any more). */
function previewAnnotations(facts, release) {
    return {
        [ANNOTATION.repository]: facts.repository,
        ...(release ? { [ANNOTATION.release]: release } : {}),
        [ANNOTATION.expiresAt]: facts.expiresAt === undefined ? null : utcTime(facts.expiresAt)
    };
}
/** Epoch seconds as `2026-12-01T12:00:00Z`. */
function utcTime(epochSeconds) {
    return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}
/** Whether a namespace's labels say the action created it for this repository. */
function createdFor(labels, repository) {
    return (labels?.[LABEL.managedBy] === MANAGED_BY &&
        labels[LABEL.repository] === repositoryLabel(repository));
}
/** The selector of every object labelled for this repository. */
function repositorySelector(repository) {
    return `${LABEL.repository}=${repositoryLabel(repository)}`;
}
/** The facts read back from labels; what is missing or unreadable is left undefined. */
function factsFromLabels(labels) {
    const pr = Number(labels?.[LABEL.pullRequest]);
    const expires = Number(labels?.[LABEL.expires]);
    const sha = labels?.[LABEL.sha];
    return {
        pullRequest: Number.isSafeInteger(pr) && pr > 0 ? pr : undefined,
        sha: sha || undefined,
        expiresAt: labels?.[LABEL.expires] && Number.isSafeInteger(expires) ? expires : undefined
    };
}
/** Only the labels with a value (for creating an object, where there is nothing to remove). */
function withValues(labels) {
    const out = {};
    for (const [k, v] of Object.entries(labels))
        if (v !== null)
            out[k] = v;
    return out;
}

;// CONCATENATED MODULE: ./src/lifecycle/namespace.ts

/**
 * Makes sure the preview's namespace exists. Absent: created with our labels, a concurrent run's
 * `AlreadyExists` taken as found. Ours: relabelled (SHA, pull request, expiry renewed). Someone
 * else's: used as it is, never labelled, so teardown never deletes it.
 */
async function ensureNamespace(kubectl, o) {
    const { repository } = o.facts;
    const labels = previewLabels(o.facts);
    const annotations = previewAnnotations(o.facts, o.release);
    let found = await kubectl.namespace(o.namespace);
    if (!found) {
        const made = await kubectl.createNamespace(o.namespace, { ...withValues(labels), ...createdLabels(repository) }, withValues(annotations));
        if (made === 'created')
            return { created: true, ours: true };
        found = await kubectl.namespace(o.namespace);
    }
    if (found?.terminating) {
        // Nothing can be created in it until it is gone (a pull request reopened right after closing).
        throw new Error(`namespace ${o.namespace} is still being deleted; run the job again once it is gone`);
    }
    if (!createdFor(found?.labels, repository))
        return { created: false, ours: false };
    await kubectl.label('namespace', o.namespace, labels);
    await kubectl.annotate('namespace', o.namespace, annotations);
    return { created: false, ours: true };
}

;// CONCATENATED MODULE: ./src/lifecycle/teardown.ts

/**
 * `helm uninstall` (a release already gone is fine), then the namespace, deleted only when its
 * labels say the action created it for this repository; a namespace found in use by others stays.
 */
async function teardown(helm, kubectl, o) {
    const out = { removed: [], left: [] };
    if (o.release !== undefined) {
        const release = `release ${o.release} in ${o.namespace}`;
        const uninstalled = await helm.uninstallRelease(o.release, o.namespace, o.timeoutMs);
        if (uninstalled === 'removed')
            out.removed.push(release);
        else
            out.left.push(`${release}: already gone`);
    }
    const ns = await kubectl.namespace(o.namespace);
    if (!ns) {
        out.left.push(`namespace ${o.namespace}: already gone`);
    }
    else if (!createdFor(ns.labels, o.repository)) {
        out.left.push(`namespace ${o.namespace}: not created by minikube-preview for ${o.repository}`);
    }
    else if (o.keepNamespace) {
        out.left.push(`namespace ${o.namespace}: another preview of ${o.repository} is kept in it`);
    }
    else if ((await kubectl.deleteNamespace(o.namespace)) === 'deleted') {
        out.removed.push(`namespace ${o.namespace}`);
    }
    else {
        out.left.push(`namespace ${o.namespace}: already gone`);
    }
    return out;
}

;// CONCATENATED MODULE: ./src/lifecycle/sweep.ts



// Helm's own rule for release names. An annotation is anyone's text: one that is not a release
// name (`--kube-context=prod`) must never reach helm's argv.
const RELEASE_NAME = /^(?=.{1,53}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
function releaseName(text) {
    return text !== undefined && RELEASE_NAME.test(text) ? text : undefined;
}
/**
 * This repository's previews: the namespaces the action created for it (labels and annotations
 * say the pull request, SHA, expiry and release), and its labelled releases in any other
 * namespace (their labels read through `helm get metadata`, which only Helm 4 prints).
 */
async function listPreviews(kubectl, helm, repository) {
    const selector = repositorySelector(repository);
    const namespaces = await kubectl.namespaces(`${selector},${LABEL.managedBy}=${MANAGED_BY}`);
    const previews = namespaces
        // One being deleted is already on its way out: nothing to sweep.
        .filter((ns) => createdFor(ns.labels, repository) && !ns.terminating)
        .map((ns) => ({
        namespace: ns.name,
        release: releaseName(ns.annotations?.[ANNOTATION.release]),
        ...factsFromLabels(ns.labels),
        namespaceCreated: true
    }));
    for (const r of await helm.releases(selector)) {
        const mine = previews.find((p) => p.namespace === r.namespace);
        if (mine && (mine.release === undefined || mine.release === r.name)) {
            mine.release = r.name;
            continue;
        }
        const labels = await helm.releaseLabels(r.name, r.namespace);
        previews.push({
            namespace: r.namespace,
            release: r.name,
            ...factsFromLabels(labels),
            namespaceCreated: mine !== undefined
        });
    }
    return previews;
}
/**
 * Which previews go: those whose expiry has passed, and those whose pull request is closed
 * (merged or not). An open pull request's preview that has not expired stays, and so does one
 * whose pull request's state is unknown (never removed on a guess).
 */
function decideSweep(previews, prState, nowMs) {
    const out = { remove: [], keep: [] };
    for (const preview of previews) {
        const { expiresAt, pullRequest } = preview;
        if (expiresAt !== undefined && expiresAt * 1000 <= nowMs) {
            out.remove.push({ preview, reason: `expired at ${utcTime(expiresAt)}`, cause: 'expired' });
            continue;
        }
        const state = pullRequest === undefined ? undefined : prState(pullRequest);
        if (state === 'closed') {
            out.remove.push({ preview, reason: `pull request #${pullRequest} closed`, cause: 'closed' });
            continue;
        }
        const expiry = expiresAt === undefined ? 'never expires' : `expires at ${utcTime(expiresAt)}`;
        const reason = pullRequest === undefined
            ? `no pull request recorded, ${expiry}`
            : state === 'open'
                ? `open and fresh: pull request #${pullRequest} open, ${expiry}`
                : `pull request #${pullRequest}: state unknown, ${expiry}`;
        out.keep.push({ preview, reason });
    }
    return out;
}
/**
 * Removes the previews `decideSweep` chose, each through `teardown`. A namespace that also holds
 * a preview being kept stays (only the release goes). One that fails does not stop the others:
 * it is named in `left` with the error; `gone` are the entries removed whole.
 */
async function removePreviews(helm, kubectl, decision, o) {
    const out = {
        removed: [],
        left: [],
        failed: [],
        gone: []
    };
    const inUse = new Set(decision.keep.map((k) => k.preview.namespace));
    for (const entry of decision.remove) {
        const p = entry.preview;
        try {
            const r = await teardown(helm, kubectl, {
                ...o,
                namespace: p.namespace,
                release: p.release,
                keepNamespace: inUse.has(p.namespace)
            });
            out.removed.push(...r.removed);
            out.left.push(...r.left);
            out.gone.push(entry);
        }
        catch (err) {
            const what = p.release ? `release ${p.release} in ${p.namespace}` : `namespace ${p.namespace}`;
            const failure = `${what}: ${errorMessage(err)}`;
            out.left.push(failure);
            out.failed.push(failure);
        }
    }
    return out;
}

;// CONCATENATED MODULE: ./src/report/deployment.ts
// The GitHub deployment of a preview, which gives the pull request GitHub's own "View deployment"
// button: one deployment per run for the head commit, `in_progress` while it is deployed and
// verified, then `success` with the preview's URL or `failure`; every deployment of the preview
// `inactive` when it is removed. A deployment belongs to a preview by its payload (pull request,
// namespace, release), never by its environment alone, so pull requests sharing an environment
// name never touch each other's deployments. Nothing here fails a run: a refusal (no
// `deployments: write`), an outage or a timeout comes back as a warning.

/** The key of our part of a deployment's payload. */
const PAYLOAD_KEY = 'minikube-preview';
/** GitHub's limit on a deployment status description. */
const DESCRIPTION_LIMIT = 140;
/** Pages of an environment's deployments read at most (newest first, 100 a page). */
const deployment_MAX_PAGES = 10;
/** The payload that marks a deployment as this preview's. */
function deploymentPayload(preview) {
    return {
        [PAYLOAD_KEY]: { pr: preview.pr, namespace: preview.namespace, release: preview.release }
    };
}
/**
 * Whether a deployment's payload (an object, or the JSON text of one, as GitHub may hand it
 * back) names this pull request's preview; `namespace` and `release` narrow it when given.
 */
function isPreviewDeployment(payload, preview) {
    let p = payload;
    if (typeof p === 'string') {
        try {
            p = JSON.parse(p);
        }
        catch {
            return false;
        }
    }
    if (!p || typeof p !== 'object')
        return false;
    const ours = p[PAYLOAD_KEY];
    if (!ours || typeof ours !== 'object')
        return false;
    return (ours.pr === preview.pr &&
        (preview.namespace === undefined || ours.namespace === preview.namespace) &&
        (preview.release === undefined || ours.release === preview.release));
}
/** `url` when GitHub would take it as a link (http or https), otherwise nothing. */
function httpUrl(url) {
    if (!url || !/^https?:\/\//i.test(url))
        return undefined;
    try {
        new URL(url);
        return url;
    }
    catch {
        return undefined;
    }
}
/** A description GitHub accepts: at most 140 characters, whole code points. */
function description(text) {
    const chars = Array.from(text.replace(/\s+/g, ' ').trim());
    return chars.length <= DESCRIPTION_LIMIT
        ? chars.join('')
        : `${chars.slice(0, DESCRIPTION_LIMIT - 1).join('')}…`;
}
function problem(what, environment, err) {
    const said = err.status
        ? `GitHub answered ${err.status}: ${err.githubMessage}`
        : err.githubMessage;
    let warning;
    if (err.status === 403 || err.status === 404) {
        warning =
            `Could not ${what} in environment '${environment}': the token needs ` +
                `\`permissions: deployments: write\` (input 'environment'; pull requests from forks get a ` +
                `read-only token). The preview itself is not affected. ${said}.`;
    }
    else if (err.status === 401) {
        warning = `Could not ${what} in environment '${environment}': GitHub did not accept the token (input 'github-token'). ${said}.`;
    }
    else {
        warning = `Could not ${what} in environment '${environment}': ${err.message}.`;
    }
    return { ok: false, status: err.status, message: err.githubMessage, warning };
}
/**
 * Creates the deployment of `sha` in the environment, for this preview, and sets it
 * `in_progress`. Transient and not production: a preview goes away. No auto-merge of the default
 * branch and no required status checks: the commit is deployed as it is.
 */
async function startDeployment(opts) {
    const { github, environment, preview } = opts;
    const where = ownerAndName(opts.repo);
    const text = description(`Preview of pull request #${preview.pr}: release ${preview.release} in namespace ${preview.namespace}`);
    let id;
    try {
        const created = await github.call((o) => o.rest.repos.createDeployment({
            ...where,
            ref: opts.sha,
            task: 'deploy',
            auto_merge: false,
            required_contexts: [],
            payload: deploymentPayload(preview),
            environment,
            description: text,
            transient_environment: true,
            production_environment: false
        }));
        const data = created.data;
        if (typeof data.id !== 'number') {
            // 202: GitHub merged the default branch instead (it cannot with auto_merge off).
            const message = typeof data.message === 'string' ? data.message : `HTTP ${created.status}`;
            return problem('create a deployment', environment, new GitHubError('POST', `/repos/${opts.repo}/deployments`, created.status, message));
        }
        id = data.id;
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return problem('create a deployment', environment, err);
    }
    const logUrl = httpUrl(opts.logUrl);
    try {
        await github.call((o) => o.rest.repos.createDeploymentStatus({
            ...where,
            deployment_id: id,
            state: 'in_progress',
            description: description('Deploying and verifying the preview'),
            ...(logUrl ? { log_url: logUrl } : {}),
            auto_inactive: false
        }));
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return {
            ok: true,
            id,
            warning: problem('mark the deployment in progress', environment, err).warning
        };
    }
    return { ok: true, id };
}
/**
 * `success` with the preview's URL when the preview is healthy, `failure` otherwise. Never
 * `auto_inactive`: GitHub would otherwise mark the other previews of the environment inactive.
 */
async function finishDeployment(opts) {
    const environmentUrl = opts.healthy ? httpUrl(opts.environmentUrl) : undefined;
    const logUrl = httpUrl(opts.logUrl);
    const text = opts.healthy
        ? 'The preview is healthy'
        : `The preview is not healthy${opts.reason ? `: ${opts.reason}` : ''}`;
    try {
        await opts.github.call((o) => o.rest.repos.createDeploymentStatus({
            ...ownerAndName(opts.repo),
            deployment_id: opts.id,
            state: opts.healthy ? 'success' : 'failure',
            description: description(text),
            ...(environmentUrl ? { environment_url: environmentUrl } : {}),
            ...(logUrl ? { log_url: logUrl } : {}),
            auto_inactive: false
        }));
        return { ok: true };
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return problem(`mark the deployment ${opts.healthy ? 'successful' : 'failed'}`, opts.environment, err);
    }
}
/**
 * Marks every deployment of this pull request's preview in the environment `inactive` (GitHub
 * shows a transient one as destroyed); those of other pull requests, and deployments not made
 * by this action, are left alone. Deployments already inactive get no second status. Reads the
 * environment's newest 1,000 deployments.
 */
async function deactivateDeployments(opts) {
    const { github, environment } = opts;
    const where = ownerAndName(opts.repo);
    const except = new Set(opts.except ?? []);
    const deactivated = [];
    const alreadyInactive = [];
    const logUrl = httpUrl(opts.logUrl);
    try {
        let pages = 0;
        const listed = await github.call((o) => o.paginate(o.rest.repos.listDeployments, { ...where, environment, per_page: 100 }, (page, done) => {
            if (++pages >= deployment_MAX_PAGES)
                done();
            return page.data;
        }));
        const ours = listed.filter((d) => !except.has(d.id) && isPreviewDeployment(d.payload, opts.preview));
        for (const d of ours) {
            const latest = await github.call((o) => o.rest.repos.listDeploymentStatuses({ ...where, deployment_id: d.id, per_page: 1 }));
            if (latest.data[0]?.state === 'inactive') {
                alreadyInactive.push(d.id);
                continue;
            }
            await github.call((o) => o.rest.repos.createDeploymentStatus({
                ...where,
                deployment_id: d.id,
                state: 'inactive',
                description: description('The preview was removed'),
                ...(logUrl ? { log_url: logUrl } : {}),
                auto_inactive: false
            }));
            deactivated.push(d.id);
        }
        return { ok: true, deactivated, alreadyInactive };
    }
    catch (err) {
        if (!(err instanceof GitHubError))
            throw err;
        return { ...problem('mark the deployments inactive', environment, err), deactivated };
    }
}

// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(37067);
// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(44708);
;// CONCATENATED MODULE: ./src/verify/http.ts
// HTTP health checks against the deployed release: a Service through `kubectl port-forward`,
// an Ingress host through the cluster IP, or the preview's URL. Retried with backoff until the deadline.
//
// Requests go through node:http rather than fetch: fetch silently replaces a `Host` header,
// and an ingress check is nothing but a request with the right `Host`.




const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 10_000;
const MAX_REQUEST_MS = 10_000;
const MIN_REQUEST_MS = 1000;
const MAX_BODY_BYTES = 256 * 1024;
const BODY_SNIPPET_CHARS = 200;
/**
 * The Service a check means: the exact name in the namespace, else the one Service of the
 * release whose name ends with `-<service>` (charts prefix names with the release name).
 */
function resolveService(service, services, release, namespace) {
    if (services.some((s) => s.metadata.name === service))
        return { name: service, exact: true };
    const ofRelease = services.filter((s) => belongsTo(s, release));
    const matching = ofRelease.filter((s) => s.metadata.name.endsWith(`-${service}`));
    if (matching.length === 1)
        return { name: matching[0].metadata.name, exact: false };
    if (matching.length > 1) {
        const names = matching.map((s) => s.metadata.name).join(', ');
        throw new Error(`health check service '${service}' is ambiguous: several Services of release ${release} end with '-${service}' (${names}); name one exactly`);
    }
    const known = ofRelease.length > 0 ? ofRelease : services;
    const list = known.length > 0 ? known.map((s) => s.metadata.name).join(', ') : 'none';
    throw new Error(`health check service '${service}' not found: no Service '${service}' in namespace ${namespace} and none of release ${release} ends with '-${service}' (Services: ${list})`);
}
function belongsTo(s, release) {
    const a = s.metadata.annotations ?? {};
    const l = s.metadata.labels ?? {};
    return (a['meta.helm.sh/release-name'] === release ||
        l['app.kubernetes.io/instance'] === release ||
        l['release'] === release);
}
class http_NoAnswer extends Error {
}
function describeNetworkError(err, timeoutMs) {
    if (err instanceof http_NoAnswer)
        return err.message;
    const e = err;
    switch (e.code) {
        case 'ECONNREFUSED':
            return 'connection refused';
        case 'ECONNRESET':
            return 'connection reset before an answer';
        case 'EHOSTUNREACH':
            return 'host unreachable';
        case 'ENETUNREACH':
            return 'network unreachable';
        case 'ETIMEDOUT':
            return `connection timed out (${formatMs(timeoutMs)})`;
        default:
            return e.message || String(err);
    }
}
/** One GET, bounded in time and in how much body it keeps. */
function get(target, timeoutMs) {
    return new Promise((resolve, reject) => {
        let settled = false;
        const done = (fn) => {
            if (settled)
                return;
            settled = true;
            clearTimeout(timer);
            fn();
        };
        const headers = {
            'User-Agent': 'minikube-preview',
            Accept: '*/*',
            Connection: 'close'
        };
        if (target.hostHeader)
            headers['Host'] = target.hostHeader;
        const req = (target.https ? external_node_https_.request : external_node_http_.request)({
            host: target.host,
            port: target.port,
            path: target.path,
            method: 'GET',
            headers,
            agent: false
        }, (res) => {
            const chunks = [];
            let size = 0;
            res.on('data', (c) => {
                if (size < MAX_BODY_BYTES)
                    chunks.push(c);
                size += c.length;
            });
            res.on('end', () => done(() => resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                location: res.headers.location
            })));
            res.on('error', (err) => done(() => reject(err)));
            res.on('close', () => {
                if (!res.complete)
                    done(() => reject(new http_NoAnswer('the answer was cut off')));
            });
        });
        const timer = setTimeout(() => req.destroy(new http_NoAnswer(`no answer within ${formatMs(timeoutMs)}`)), timeoutMs);
        req.on('error', (err) => done(() => reject(err)));
        req.end();
    });
}
function snippet(body) {
    const one = redact(body).replace(/\s+/g, ' ').trim();
    return one.length > BODY_SNIPPET_CHARS ? `${one.slice(0, BODY_SNIPPET_CHARS)}…` : one;
}
async function attempt(check, target, timeoutMs) {
    const started = performance.now();
    let res;
    try {
        res = await get(target, timeoutMs);
    }
    catch (err) {
        return { ok: false, error: describeNetworkError(err, timeoutMs), noAnswer: true };
    }
    const latencyMs = Math.round(performance.now() - started);
    // A preview's URL may redirect (to a login, to https): any 2xx or 3xx is an answer.
    const passed = check.url !== undefined
        ? res.status >= 200 && res.status < 400
        : res.status === check.expectStatus;
    if (!passed) {
        const where = res.location ? ` (redirect to ${redact(res.location)})` : '';
        const body = snippet(res.body);
        return {
            ok: false,
            status: res.status,
            latencyMs,
            error: `expected status ${check.url !== undefined ? '2xx or 3xx' : check.expectStatus}, got ${res.status}${where}${body ? `: ${body}` : ''}`
        };
    }
    if (check.expectBody !== undefined && !res.body.includes(check.expectBody)) {
        const body = snippet(res.body);
        return {
            ok: false,
            status: res.status,
            latencyMs,
            error: `body did not contain ${JSON.stringify(check.expectBody)}: ${body || 'the body was empty'}`
        };
    }
    return { ok: true, status: res.status, latencyMs };
}
/** Attempts until one succeeds or the deadline passes; the last attempt comes at the deadline. */
async function untilDeadline(ctx, check, url, once) {
    let delay = FIRST_DELAY_MS;
    let attempts = 0;
    let last;
    for (;;) {
        attempts++;
        const remaining = ctx.opts.deadline - ctx.now();
        last = await once(Math.min(MAX_REQUEST_MS, Math.max(MIN_REQUEST_MS, remaining)));
        if (last.ok) {
            ctx.log(`health check ${check.label}: ${url} answered ${last.status} in ${last.latencyMs} ms (attempt ${attempts})`);
            return {
                label: check.label,
                url,
                ok: true,
                status: last.status,
                latencyMs: last.latencyMs,
                attempts
            };
        }
        const left = ctx.opts.deadline - ctx.now();
        if (left <= 0 || ctx.opts.signal?.aborted)
            break;
        const wait = Math.min(delay, left);
        ctx.log(`health check ${check.label}: attempt ${attempts}: ${last.error}; trying again in ${formatMs(wait)}`);
        await ctx.sleep(wait);
        if (ctx.opts.signal?.aborted)
            break;
        delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
    ctx.log(`health check ${check.label}: failed after ${attempts} attempt(s): ${last.error}`);
    return {
        label: check.label,
        url,
        ok: false,
        status: last.status,
        latencyMs: last.latencyMs,
        attempts,
        error: last.error
    };
}
async function urlCheck(ctx, check, url) {
    let u;
    try {
        u = new URL(url);
    }
    catch {
        return { label: check.label, url, ok: false, attempts: 0, error: 'not a URL' };
    }
    const https = u.protocol === 'https:';
    const target = {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port) || (https ? 443 : 80),
        path: `${u.pathname}${u.search}` || '/',
        https
    };
    ctx.log(`health check ${check.label}: GET ${url}`);
    return untilDeadline(ctx, check, url, (timeoutMs) => attempt(check, target, timeoutMs));
}
async function ingressCheck(ctx, check, host) {
    const url = `http://${host}${check.path}`;
    const ip = ctx.opts.clusterIp;
    if (!ip) {
        return {
            label: check.label,
            url,
            ok: false,
            attempts: 0,
            error: `ingress checks need the cluster IP to send 'Host: ${host}' to, and this cluster has none (use a service check instead)`
        };
    }
    ctx.log(`health check ${check.label}: GET http://${ip}${check.path} with Host: ${host}`);
    const withPort = /^([^:]+):(\d+)$/.exec(ip);
    const target = withPort
        ? { host: withPort[1], port: Number(withPort[2]), path: check.path, hostHeader: host }
        : { host: ip, port: 80, path: check.path, hostHeader: host };
    return untilDeadline(ctx, check, url, (timeoutMs) => attempt(check, target, timeoutMs));
}
async function serviceCheck(ctx, check, service, port) {
    const { kubectl, namespace, release } = ctx.opts;
    let name;
    try {
        const found = resolveService(service, await ctx.services(), release, namespace);
        name = found.name;
        if (!found.exact)
            ctx.log(`health check ${check.label}: using Service ${name} of release ${release} for '${service}'`);
    }
    catch (err) {
        const error = errorMessage(err);
        ctx.log(`health check ${check.label}: ${error}`);
        return {
            label: check.label,
            url: `svc/${service}:${port}${check.path}`,
            ok: false,
            attempts: 0,
            error
        };
    }
    const url = `svc/${name}:${port}${check.path}`;
    let forward;
    try {
        return await untilDeadline(ctx, check, url, async (timeoutMs) => {
            if (forward && !forward.alive()) {
                ctx.log(`health check ${check.label}: port-forward to svc/${name} stopped; starting it again`);
                forward = undefined;
            }
            if (!forward) {
                // Outlives the deadline a little so a slow last attempt is not cut off by it.
                const lifetimeMs = Math.max(60_000, ctx.opts.deadline - ctx.now() + 60_000);
                try {
                    forward = await kubectl.portForward(`svc/${name}`, port, namespace, lifetimeMs);
                }
                catch (err) {
                    return { ok: false, error: redact(errorMessage(err)) };
                }
            }
            const result = await attempt(check, { host: '127.0.0.1', port: forward.localPort, path: check.path }, timeoutMs);
            if (result.noAnswer) {
                // kubectl forwards to the one pod it picked at start; that pod may be gone.
                forward.stop();
                forward = undefined;
            }
            return result;
        });
    }
    finally {
        forward?.stop();
    }
}
/** Waits `ms`, or less if `signal` stops the checks. */
function pause(ms, signal) {
    return new Promise((resolve) => {
        const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
    });
}
/** Runs every check concurrently; never throws for a failing check, it is recorded as failed. */
async function runHealthChecks(checks, opts) {
    let services;
    const ctx = {
        opts,
        now: opts.now ?? Date.now,
        sleep: opts.sleep ?? ((ms) => pause(ms, opts.signal)),
        log: (line) => opts.log?.info(redact(line)),
        services: () => {
            services ??= opts.kubectl.getJson('services', opts.namespace).then((list) => list.items, (err) => {
                const why = errorMessage(err);
                throw new Error(`could not list the Services of namespace ${opts.namespace}: ${why}`);
            });
            return services;
        }
    };
    return Promise.all(checks.map((check) => {
        if (check.url !== undefined)
            return urlCheck(ctx, check, check.url);
        if (check.ingressHost !== undefined)
            return ingressCheck(ctx, check, check.ingressHost);
        if (check.service !== undefined && check.port !== undefined) {
            return serviceCheck(ctx, check, check.service, check.port);
        }
        return Promise.resolve({
            label: check.label,
            url: check.path,
            ok: false,
            attempts: 0,
            error: 'a health check needs a service and port, or an ingress-host'
        });
    }));
}

;// CONCATENATED MODULE: ./src/stages/lifecycle.ts
// The lifecycle stage: a preview's namespace, its URL check and GitHub deployment, its teardown
// when the pull request closes, and the sweep of expired and closed previews.















const TEARDOWN_TIMEOUT_MS = 5 * 60_000;
/**
 * What labels a preview: the repository, pull request, head commit and expiry, renewed from the
 * start of this run, so that the namespace and the release carry the same one.
 */
function previewFacts(run) {
    return {
        repository: run.facts.repository ?? '',
        pullRequest: run.facts.pullRequest,
        sha: run.facts.commit,
        expiresAt: expiresAt(run.startedAt, run.inputs.ttlMs)
    };
}
/** The release's labels, when its helm can carry them (3.13 and later) and the cluster is shared. */
function releaseLabels(run) {
    const version = run.tools.get('helm')?.version ?? '';
    if (run.inputs.cluster !== 'existing' || !supportsReleaseLabels(version))
        return undefined;
    return previewFacts(run);
}
/** The namespace of a preview on a shared cluster: made and labelled as ours, or used as found. */
async function prepareNamespace(run, log) {
    const namespace = run.inputs.namespace;
    const facts = previewFacts(run);
    const state = await ensureNamespace(run.kubectl(log), {
        namespace,
        release: run.found.release,
        facts
    });
    run.preview.namespace = namespace;
    run.preview.namespaceCreated = state.ours;
    if (facts.expiresAt !== undefined)
        run.preview.expiresAt = facts.expiresAt * 1000;
    log.info(state.created
        ? `created namespace ${namespace}, labelled as this repository's preview`
        : state.ours
            ? `namespace ${namespace} is this repository's preview: labels renewed`
            : `namespace ${namespace} exists and was not created by minikube-preview: used as it is, never deleted`);
    if (facts.expiresAt !== undefined)
        log.info(`the preview expires ${new Date(facts.expiresAt * 1000).toISOString()}`);
}
/**
 * The preview's URL: the `url` template, or else on a shared cluster the first host of the
 * release's Ingress. Undefined when there is neither.
 */
function previewUrl(run) {
    const i = run.inputs;
    if (i.url) {
        return renderUrl(i.url, {
            number: run.facts.pullRequest !== undefined ? String(run.facts.pullRequest) : '',
            branch: run.facts.branch ?? '',
            sha: run.facts.commit ?? '',
            namespace: i.namespace,
            release: run.found.release ?? ''
        });
    }
    if (i.cluster !== 'existing')
        return undefined;
    return ingressUrl(run.deployed ?? []);
}
/** The preview's URL must answer (2xx or 3xx) for the preview to be healthy. */
async function lifecycle_urlCheck(run, log) {
    const url = run.preview.url;
    if (!url) {
        log.info('no url template and no Ingress host: there is no URL to check');
        return NOT_NEEDED;
    }
    const deadline = Math.max(run.verifyDeadline ?? 0, Date.now() + 30_000);
    const [result] = await runHealthChecks([{ label: 'url', url, path: '', expectStatus: 200 }], {
        kubectl: run.kubectl(log),
        namespace: run.inputs.namespace,
        release: run.found.release,
        deadline,
        signal: run.unstable.signal,
        log
    });
    if (!result)
        return;
    run.healthChecks.push(result);
    if (!result.ok)
        throw new Error(`the preview URL ${url}: ${result.error ?? `status ${result.status}`}`);
}
function target(run) {
    const github = run.github();
    const repo = run.facts.repository;
    if (!github || !repo)
        return undefined;
    return { github, repo, environment: run.inputs.environment };
}
/** A GitHub deployment of the head commit, `in_progress` until the preview is judged. */
async function beginDeployment(run, log) {
    const t = target(run);
    const pr = run.facts.pullRequest;
    const sha = run.facts.commit;
    if (!t || pr === undefined || !sha) {
        const why = !t ? `input 'github-token' is empty` : 'this run is not for a pull request';
        log.info(`no GitHub deployment: ${why}`);
        return NOT_NEEDED;
    }
    run.preview.environment = t.environment;
    const started = await startDeployment({
        ...t,
        sha,
        preview: { pr, namespace: run.inputs.namespace, release: run.found.release },
        logUrl: run.facts.runUrl
    });
    if (started.warning)
        core/* warning */.$e(started.warning);
    if (!started.ok)
        return;
    run.preview.deploymentId = started.id;
    log.info(`deployment ${started.id} in environment ${t.environment}: in progress`);
}
/** `success` with the URL when every step so far succeeded and the release is healthy, else `failure`. */
async function endDeployment(run, log, results) {
    const t = target(run);
    const id = run.preview.deploymentId;
    if (!t || id === undefined)
        return NOT_NEEDED;
    // A skipped step always follows a failed one, which troubled() counts.
    const healthy = !run.troubled(results);
    const failed = results.find((r) => r.status === 'failure');
    const finished = await finishDeployment({
        ...t,
        id,
        healthy,
        environmentUrl: run.preview.url,
        logUrl: run.facts.runUrl,
        reason: failed ? `${failed.title} failed` : undefined
    });
    if (!finished.ok) {
        core/* warning */.$e(finished.warning);
        return;
    }
    log.info(`deployment ${id}: ${healthy ? 'success' : 'failure'}`);
}
/** A closed pull request: its release, and its namespace when the action created it, go. */
async function teardownPreview(run, log) {
    const namespace = run.inputs.namespace;
    const removal = await teardown(run.helm(log), run.kubectl(log), {
        release: run.found.release,
        namespace,
        repository: run.facts.repository ?? '',
        timeoutMs: TEARDOWN_TIMEOUT_MS
    });
    run.preview.namespace = namespace;
    run.preview.removed = removal.removed;
    run.preview.left = removal.left;
    for (const r of removal.removed)
        log.info(`removed ${r}`);
    for (const l of removal.left)
        log.info(`left ${l}`);
}
/** The closed pull request's deployments, marked inactive. */
async function deactivate(run, log) {
    const t = target(run);
    const pr = run.facts.pullRequest;
    if (!t || pr === undefined)
        return NOT_NEEDED;
    run.preview.environment = t.environment;
    await markInactive(run, log, t, {
        pr,
        namespace: run.inputs.namespace,
        release: run.found.release
    });
}
/**
 * A removed preview's deployments, marked inactive; how many goes to the log and to `removed`
 * (`of` names the pull request when a sweep tells several). GitHub's refusal is a warning.
 */
async function markInactive(run, log, t, preview, of = '') {
    const result = await deactivateDeployments({ ...t, preview, logUrl: run.facts.runUrl });
    if (!result.ok) {
        core/* warning */.$e(result.warning);
        return;
    }
    const ids = result.deactivated;
    log.info(ids.length > 0
        ? `marked ${ids.length} deployment(s)${of} inactive: ${ids.join(', ')}`
        : `no active deployment of this preview${of}`);
    if (ids.length > 0)
        (run.preview.removed ??= []).push(`${ids.length} GitHub deployment(s)${of}`);
}
function swept(entries) {
    return entries.map(({ preview: p, reason }) => ({
        namespace: p.namespace,
        release: p.release,
        pr: p.pullRequest,
        reason
    }));
}
/**
 * `mode: sweep`: every preview of this repository on the cluster whose expiry has passed or
 * whose pull request is closed is removed; the rest are kept, each with the reason.
 */
async function sweep(run, log) {
    const repository = run.facts.repository;
    if (!repository)
        throw new Error('the repository is not known (GITHUB_REPOSITORY is empty)');
    const helm = run.helm(log);
    const kubectl = run.kubectl(log);
    const previews = await listPreviews(kubectl, helm, repository);
    log.info(`${previews.length} preview(s) of ${repository} on the cluster`);
    const github = run.github();
    const numbers = previews.flatMap((p) => (p.pullRequest === undefined ? [] : [p.pullRequest]));
    const states = github && numbers.length > 0 ? await pullRequestStates(github, repository, numbers) : undefined;
    if (!github && numbers.length > 0)
        core/* warning */.$e(`input 'github-token' is empty: closed pull requests cannot be told, only expiry is`);
    for (const s of states?.values() ?? [])
        if (s.state === 'unknown')
            core/* warning */.$e(s.warning);
    const decision = decideSweep(previews, (n) => states?.get(n)?.state ?? 'unknown', Date.now());
    run.preview.swept = swept(decision.remove);
    run.preview.kept = swept(decision.keep);
    const removal = await removePreviews(helm, kubectl, decision, {
        repository,
        timeoutMs: TEARDOWN_TIMEOUT_MS
    });
    run.preview.removed = removal.removed;
    run.preview.left = removal.left;
    for (const e of run.preview.swept)
        log.info(`remove ${describeSwept(e)}`);
    for (const e of run.preview.kept)
        log.info(`keep ${describeSwept(e)}`);
    await tellPullRequests(run, log, removal.gone);
    const failed = removal.failed;
    log.info(`removed ${decision.remove.length}, kept ${decision.keep.length} in ${formatMs(Date.now() - run.startedAt)}`);
    if (failed.length > 0)
        throw new Error(`some previews could not be removed: ${failed.join('; ')}`);
}
/**
 * The pull requests of the swept previews, as on close: their comment (the one with this run's
 * `comment-header`, or the preview's default header) now says the preview was removed, when and
 * why, and with `environment` set their deployments are marked inactive. A preview with no pull
 * request recorded has neither. Best effort: GitHub's refusals are warnings.
 */
async function tellPullRequests(run, log, gone) {
    const t = target(run);
    if (!t)
        return;
    const { github, repo } = t;
    const i = run.inputs;
    const removedAt = new Date();
    for (const { preview: p, cause } of gone) {
        const pr = p.pullRequest;
        if (pr === undefined)
            continue;
        if (i.comment !== 'never') {
            const result = await markPreviewRemoved({
                token: i.githubToken,
                github,
                repo,
                pr,
                header: i.commentHeader || defaultCommentHeader(p.release, p.namespace),
                removedAt,
                reason: cause ?? 'closed',
                release: p.release,
                namespace: p.namespace,
                runUrl: run.facts.runUrl
            });
            if (!result.ok)
                core/* warning */.$e(result.warning);
            else if (result.action !== 'none') {
                log.info(`the comment on pull request #${pr} now says the preview was removed`);
                (run.preview.removed ??= []).push(`the comment on pull request #${pr}, rewritten`);
            }
        }
        if (i.environment !== '')
            await markInactive(run, log, t, { pr, namespace: p.namespace, release: p.release }, ` of pull request #${pr}`);
    }
}

;// CONCATENATED MODULE: ./src/stages/registry.ts
// The registry stages: the login before anything is pushed, the push of each loaded image once a
// minikube preview is healthy, and `push-tags` put on the verified digests (verify, then promote).




/** `docker login --password-stdin`; the host is saved at once, so post logs out even of a killed run. */
async function registryLogin(run, log) {
    const i = run.inputs;
    const docker = await run.docker(log);
    const host = await loginToRegistry(docker, {
        registry: i.registry,
        username: i.registryUsername,
        password: i.registryPassword
    });
    state.saveDockerPath(docker.path);
    state.saveRegistryHost(host);
    log.info(`logged in to ${host} as '${i.registryUsername}'`);
}
/**
 * `cluster: minikube`: the image the verified preview ran, pushed from the daemon (or from the
 * tarball the build exported, removed once it is in the registry).
 */
async function pushLoadedImage(run, image, log) {
    const info = run.images.get(image.name);
    if (!info)
        throw new Error(`${image.name} was not built`);
    const docker = await run.docker(log);
    const pushed = await pushImage(docker, {
        registry: run.inputs.registry,
        name: image.name,
        tag: run.found.imageTag,
        source: { image: info.reference, tarball: info.tarball }
    });
    if (info.tarball) {
        (0,external_node_fs_.rmSync)(info.tarball, { force: true });
        delete info.tarball;
    }
    info.pushed = pushed.reference;
    info.digest = pushed.digest;
    log.info(`pushed ${pushed.pinned}`);
}
/** `push-tags` on each pushed digest; the plan runs this only after every verification succeeded. */
async function promote(run, log) {
    const docker = await run.docker(log);
    for (const image of run.inputs.images) {
        const info = run.images.get(image.name);
        if (!info?.pushed || !info.digest)
            throw new Error(`${image.name} was not pushed`);
        const tags = await promoteImage(docker, image.name, pushedImage(info.pushed, info.digest), run.inputs.pushTags);
        info.tags = tags;
        log.info(`${tags.join(', ')} → ${info.digest}`);
    }
}

;// CONCATENATED MODULE: ./src/deploy/repositories.ts
// Which chart repositories helm must know before `helm dependency build`, read from Chart.yaml,
// Chart.lock and the user's own helm repository config.


const NAME_PREFIX = 'minikube-preview-';
const SHOWN = 120;
/** The same URL with or without trailing slashes is one repository, as helm compares them. */
function urlKey(url) {
    return url.replace(/\/+$/, '');
}
/** A deterministic repository name for a URL: the same on every run and runner. */
function repositoryName(url) {
    return NAME_PREFIX + (0,external_node_crypto_.createHash)('sha256').update(urlKey(url)).digest('hex').slice(0, 16);
}
/** Chart metadata is written by the pull request: quoted, on one line, bounded. */
function shown(text) {
    const line = text.replace(/\s+/g, ' ');
    return `'${line.length > SHOWN ? `${line.slice(0, SHOWN)}…` : line}'`;
}
function dependencyList(doc) {
    const list = doc?.dependencies;
    if (!Array.isArray(list))
        return [];
    return list.flatMap((d) => {
        if (typeof d !== 'object' || d === null)
            return [];
        const { name, repository } = d;
        if (typeof repository !== 'string' || repository.trim() === '')
            return [];
        return [{ name: typeof name === 'string' ? name : '?', repository: repository.trim() }];
    });
}
function parsed(text, file) {
    if (text === undefined)
        return undefined;
    try {
        return (0,dist/* parse */.qg)(text);
    }
    catch {
        throw new Error(`${file} of the chart is not valid YAML`);
    }
}
/** The entries of a helm `repositories.yaml`; anything unreadable counts as none. */
function repositoryEntries(text) {
    let doc;
    try {
        doc = text === undefined ? undefined : (0,dist/* parse */.qg)(text);
    }
    catch {
        return [];
    }
    const list = doc?.repositories;
    if (!Array.isArray(list))
        return [];
    return list.filter((e) => typeof e === 'object' &&
        e !== null &&
        typeof e.name === 'string' &&
        typeof e.url === 'string');
}
/**
 * The repositories `helm dependency build` needs for a chart. Local (`file://`, none) and OCI
 * (`oci://`) dependencies need none. `@name` and `alias:name` name a repository of the user's
 * own config, used as it is; a URL the user's config already has is used through that entry
 * (it may hold credentials); any other URL is added under `repositoryName(url)`.
 */
function dependencyRepositories(chartYaml, chartLock, userRepositories, userConfigPath = 'your helm repository config') {
    const deps = [
        ...dependencyList(parsed(chartYaml, 'Chart.yaml')),
        ...dependencyList(parsed(chartLock, 'Chart.lock'))
    ];
    const add = new Map();
    const reuse = new Map();
    const problems = [];
    const known = (url) => userRepositories.find((e) => urlKey(e.url) === urlKey(url));
    for (const { name, repository } of deps) {
        const dep = `chart dependency ${shown(name)}`;
        if (/^(file|oci):\/\//i.test(repository))
            continue;
        const alias = /^(?:@|alias:)(.*)$/.exec(repository)?.[1];
        if (alias !== undefined) {
            const entry = userRepositories.find((e) => e.name === alias);
            if (entry)
                reuse.set(entry.name, entry);
            else {
                problems.push(`${dep} refers to the repository ${shown(repository)}, which is not in ${userConfigPath}: ` +
                    `write the repository's URL in Chart.yaml, or add it with 'helm repo add' in an earlier step`);
            }
            continue;
        }
        if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) {
            problems.push(`${dep} has the repository ${shown(repository)}: expected a URL (https://…, oci://…), ` +
                `a file:// path or '@name' of a repository added with 'helm repo add'`);
            continue;
        }
        let url;
        try {
            url = new URL(repository);
        }
        catch {
            url = undefined;
        }
        if (!url) {
            problems.push(`${dep} has the repository ${shown(repository)}, which is not a valid URL`);
            continue;
        }
        if (url.username || url.password) {
            problems.push(`${dep} has credentials in its repository URL (${url.protocol}//${url.host}): ` +
                `add the repository with 'helm repo add --username … --password-stdin' in an earlier step ` +
                `and write its URL without them`);
            continue;
        }
        const entry = known(repository);
        if (entry) {
            reuse.set(entry.name, entry);
            continue;
        }
        const key = urlKey(repository);
        if (!add.has(key))
            add.set(key, { name: repositoryName(repository), url: repository });
    }
    return { add: [...add.values()], reuse: [...reuse.values()], problems };
}

;// CONCATENATED MODULE: ./src/verify/health.ts
// Health of a release's workloads, decided from what `kubectl get … -o json` shows: a pure
// function of the cluster's objects and the time, so it is tested on recorded real objects.
const DEFAULT_UNSCHEDULABLE_GRACE_MS = 30_000;
const DEFAULT_CRASH_LOOP_RESTARTS = 2;
/** The resource types of the list `evaluate` reads, in the order kubectl is asked for them. */
function resourcesFor(kinds) {
    const want = new Set(kinds);
    // Pods always: every workload but an APIService is judged by its pods.
    return Object.entries(KINDS).flatMap(([kind, rule]) => want.has(kind) || kind === 'Pod' ? rule.resources : []);
}
function isWorkloadKind(kind) {
    return Object.hasOwn(KINDS, kind);
}
/**
 * The workloads among a release's manifest objects, once each, in manifest order. An object
 * of a workload kind from another API group (a custom resource also named `StatefulSet`)
 * is not one of ours to judge.
 */
function workloadsOf(objects, defaultNamespace) {
    const seen = new Set();
    const out = [];
    for (const o of objects) {
        if (!isWorkloadKind(o.kind))
            continue;
        if (o.apiVersion && o.apiVersion !== KINDS[o.kind].api)
            continue;
        const ref = {
            kind: o.kind,
            name: o.name,
            namespace: o.namespace || defaultNamespace
        };
        const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
        if (seen.has(key))
            continue;
        seen.add(key);
        out.push(ref);
    }
    return out;
}
function asObject(item) {
    if (typeof item !== 'object' || item === null)
        return undefined;
    const o = item;
    if (typeof o.kind !== 'string' || typeof o.metadata !== 'object' || o.metadata === null) {
        return undefined;
    }
    return item;
}
function condition(o, type) {
    return o.status?.conditions?.find((c) => c.type === type);
}
function isTrue(c) {
    return c?.status === 'True';
}
/** All objects of a list, indexed by owner so a workload finds its ReplicaSets and pods. */
class ClusterIndex {
    byKind = new Map();
    constructor(items) {
        for (const item of items) {
            const o = asObject(item);
            if (!o)
                continue;
            const list = this.byKind.get(o.kind) ?? [];
            list.push(o);
            this.byKind.set(o.kind, list);
        }
    }
    find(ref) {
        return this.byKind
            .get(ref.kind)
            ?.find((o) => o.metadata.name === ref.name && sameNamespace(o, ref.namespace));
    }
    /** Objects of `kind` whose controlling owner is `owner`. */
    ownedBy(owner, kind) {
        const ns = owner.metadata.namespace;
        return (this.byKind.get(kind) ?? []).filter((o) => (ns === undefined || sameNamespace(o, ns)) &&
            (o.metadata.ownerReferences ?? []).some((r) => r.controller !== false &&
                r.kind === owner.kind &&
                r.name === owner.metadata.name &&
                // A workload deleted and created again under the same name has a new uid.
                (!r.uid || !owner.metadata.uid || r.uid === owner.metadata.uid)));
    }
}
function sameNamespace(o, ns) {
    return o.metadata.namespace === undefined || o.metadata.namespace === ns;
}
// ---- One pod ----
/** Waiting reasons a container does not recover from without a change to the release. */
const WILL_NOT_HEAL = new Set([
    'ImagePullBackOff',
    'ErrImagePull',
    'ErrImageNeverPull',
    'InvalidImageName',
    'CreateContainerConfigError',
    'CreateContainerError',
    'RunContainerError'
]);
/** Evicted and preempted pods were pushed out by the node or the scheduler, not by their own fault. */
function isDisplaced(pod) {
    return pod.status?.reason === 'Evicted' || isTrue(condition(pod, 'DisruptionTarget'));
}
function isTerminal(pod) {
    const phase = pod.status?.phase;
    return phase === 'Succeeded' || phase === 'Failed';
}
function isLive(pod) {
    return !isTerminal(pod) && !pod.metadata.deletionTimestamp;
}
function isReady(pod) {
    return pod.status?.phase !== 'Failed' && isTrue(condition(pod, 'Ready'));
}
/** Init containers first: they run first, so their trouble is what blocks the pod. */
function health_containersOf(pod) {
    const out = [];
    const add = (statuses, specs, init) => {
        for (const status of statuses ?? []) {
            out.push({
                label: `${init ? 'init container' : 'container'} ${status.name ?? '?'}`,
                status,
                spec: specs?.find((s) => s.name === status.name)
            });
        }
    };
    add(pod.status?.initContainerStatuses, pod.spec?.initContainers, true);
    add(pod.status?.containerStatuses, pod.spec?.containers, false);
    return out;
}
function restartsOf(pod) {
    return health_containersOf(pod).reduce((n, c) => n + (c.status.restartCount ?? 0), 0);
}
/** Flattened to one line; a long one loses its middle, since runtimes put the cause last. */
function health_oneLine(text, max = 300) {
    const flat = text.replace(/\s+/g, ' ').trim();
    if (flat.length <= max)
        return flat;
    const tail = Math.floor(max / 3);
    return `${flat.slice(0, max - tail - 1).trimEnd()} … ${flat.slice(-tail).trimStart()}`;
}
/** `container x: what` — naming the pod too unless Kubernetes' message already does. */
function about(pod, container, what) {
    return what.includes(pod) ? `${container}: ${what}` : `${container} of pod ${pod}: ${what}`;
}
/** `exited with code 1`, `was killed by signal 9`, `exited` — how a container stopped. */
function exited(t) {
    if (t?.exitCode !== undefined)
        return `exited with code ${t.exitCode}`;
    if (t?.signal !== undefined)
        return `was killed by signal ${t.signal}`;
    return 'stopped';
}
function exitText(t) {
    const code = t.exitCode !== undefined ? `exit code ${t.exitCode}` : (t.reason ?? 'terminated');
    return t.message ? `${code}: ${health_oneLine(t.message, 200)}` : code;
}
function timeOf(text) {
    if (!text)
        return undefined;
    const t = Date.parse(text);
    return Number.isNaN(t) ? undefined : t;
}
/** The first of `containers` for which `pick` finds something. */
function firstOf(containers, pick) {
    for (const c of containers) {
        const found = pick(c);
        if (found !== undefined)
            return found;
    }
    return undefined;
}
/**
 * The checks of one pod, in priority order: the first that applies decides. Failures that will
 * not heal come first, then what may pass (scheduling, a pod that ran and failed, which its
 * siblings may replace), then, for a pod not ready yet, what it is waiting for.
 */
const POD_CHECKS = [
    {
        name: 'completed',
        check: (v) => v.pod.status?.phase === 'Succeeded' ? { state: 'healthy', reason: 'Completed' } : undefined
    },
    {
        name: 'image or container config that will not heal',
        check: (v) => firstOf(v.containers, (c) => {
            const waiting = c.status.state?.waiting;
            if (!waiting?.reason || !WILL_NOT_HEAL.has(waiting.reason))
                return undefined;
            return {
                state: 'failed',
                reason: waiting.reason,
                message: about(v.name, c.label, health_oneLine(waiting.message || waiting.reason)),
                summary: `${waiting.reason} in ${v.of(c)}`
            };
        })
    },
    {
        name: 'out of memory',
        check: (v) => firstOf(v.containers, (c) => {
            const oom = [c.status.state?.terminated, c.status.lastState?.terminated].find((t) => t?.reason === 'OOMKilled');
            if (!oom)
                return undefined;
            const limit = c.spec?.resources?.limits?.memory;
            const what = `killed for running out of memory${limit ? ` (limit ${limit})` : ''}, ${exitText(oom)}`;
            return {
                state: 'failed',
                reason: 'OOMKilled',
                message: about(v.name, c.label, what),
                summary: `${v.of(c)} ran out of memory${limit ? ` (limit ${limit})` : ''}`
            };
        })
    },
    {
        name: 'crash loop',
        check: (v) => firstOf(v.containers, (c) => {
            const waiting = c.status.state?.waiting;
            const restarts = c.status.restartCount ?? 0;
            // Between back-offs a real kubelet mostly shows the container as terminated, and shows
            // the CrashLoopBackOff wait only briefly: a poll must not have to catch that moment.
            const down = c.status.state?.terminated;
            if (down &&
                (down.exitCode ?? 0) !== 0 &&
                restarts >= v.limits.restarts &&
                v.pod.spec?.restartPolicy !== 'Never' &&
                !v.failedPhase) {
                return {
                    state: 'failed',
                    reason: 'CrashLoopBackOff',
                    message: about(v.name, c.label, `${exitText(down)} again after ${restarts} restarts`),
                    summary: `${v.of(c)} is in CrashLoopBackOff (exit code ${down.exitCode ?? 'unknown'})`
                };
            }
            if (waiting?.reason !== 'CrashLoopBackOff' || restarts < v.limits.restarts)
                return undefined;
            const last = c.status.lastState?.terminated;
            const what = `${health_oneLine(waiting.message || 'back-off restarting failed container')}${last ? `; ${exitText(last)}` : ''}`;
            return {
                state: 'failed',
                reason: 'CrashLoopBackOff',
                message: about(v.name, c.label, what),
                summary: `${v.of(c)} is in CrashLoopBackOff${last?.exitCode !== undefined ? ` (exit code ${last.exitCode})` : ''}`
            };
        })
    },
    {
        // Once the rollout has completed, any restart is a failure: the pod was Ready and fell over.
        name: 'restarted after the rollout completed',
        check: (v) => firstOf(v.containers, (c) => {
            const before = v.limits.settled?.get(containerKey(v.pod, c));
            const restarts = c.status.restartCount ?? 0;
            if (before === undefined || restarts <= before)
                return undefined;
            const last = c.status.lastState?.terminated;
            const what = `restarted after the rollout completed (restarts ${before} → ${restarts})${last ? `; last ${exitText(last)}` : ''}`;
            return {
                state: 'failed',
                reason: 'Restarted',
                message: about(v.name, c.label, what),
                summary: `${v.of(c)} restarted${last ? ` (${exited(last)})` : ''}`
            };
        })
    },
    {
        name: 'unschedulable',
        check: (v) => {
            const scheduled = condition(v.pod, 'PodScheduled');
            if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable')
                return undefined;
            const since = timeOf(scheduled.lastTransitionTime) ?? timeOf(v.pod.metadata.creationTimestamp);
            const expired = since !== undefined && v.now - since >= v.limits.grace;
            return {
                state: expired ? 'failed' : 'progressing',
                reason: 'Unschedulable',
                message: `pod ${v.name}: ${health_oneLine(scheduled.message || 'no node can run it')}`,
                summary: `pod ${v.name} fits on no node`
            };
        }
    },
    // A pod that ran and failed is judged with its siblings: a replacement may yet work. With
    // restartPolicy Never a container that exited non-zero is final even while others run.
    {
        name: 'pod failed, with the reason of the pod',
        check: (v) => {
            const reason = v.pod.status?.reason;
            if (!v.failedPhase || !reason)
                return undefined;
            return {
                state: v.ranAndFailed,
                reason,
                message: `pod ${v.name}: ${health_oneLine(v.pod.status?.message || reason)}`,
                summary: `pod ${v.name} failed (${reason})`,
                failedAs: `pod/${reason}`
            };
        }
    },
    {
        name: 'container exited non-zero in a pod that failed or never restarts',
        check: (v) => {
            if (!v.failedPhase && v.pod.spec?.restartPolicy !== 'Never')
                return undefined;
            const broke = v.containers.find((c) => (c.status.state?.terminated?.exitCode ?? 0) !== 0);
            const t = broke?.status.state?.terminated;
            if (!broke || !t)
                return undefined;
            return {
                state: v.ranAndFailed,
                reason: t.reason || 'Error',
                message: about(v.name, broke.label, exitText(t)),
                summary: `${v.of(broke)} ${exited(t)}`,
                failedAs: `${broke.label}/${t.exitCode}`
            };
        }
    },
    {
        name: 'pod failed',
        check: (v) => v.failedPhase
            ? {
                state: v.ranAndFailed,
                reason: 'Failed',
                message: `pod ${v.name}: ${health_oneLine(v.pod.status?.message || 'failed')}`,
                summary: `pod ${v.name} failed`,
                failedAs: 'pod/Failed'
            }
            : undefined
    },
    { name: 'ready', check: (v) => (isReady(v.pod) ? { state: 'healthy' } : undefined) },
    // Not ready yet: say what it is waiting for, as `kubectl get pods` would.
    {
        name: 'container waiting',
        check: (v) => firstOf(v.containers, (c) => {
            const waiting = c.status.state?.waiting;
            if (!waiting?.reason)
                return undefined;
            const last = c.status.lastState?.terminated;
            // The last exit says why it waits (a back-off message alone does not).
            const detail = [waiting.message, last && `last ${exitText(last)}`].filter(Boolean).join('; ') ||
                waiting.reason;
            return {
                state: 'progressing',
                reason: waiting.reason,
                message: about(v.name, c.label, health_oneLine(detail)),
                summary: `${v.of(c)} is in ${waiting.reason}`
            };
        })
    },
    {
        name: 'container exited non-zero',
        check: (v) => firstOf(v.containers, (c) => {
            const t = c.status.state?.terminated;
            if (!t || (t.exitCode ?? 0) === 0)
                return undefined;
            return {
                state: 'progressing',
                reason: t.reason || 'Error',
                message: about(v.name, c.label, exitText(t)),
                summary: `${v.of(c)} ${exited(t)}`
            };
        })
    },
    {
        name: 'not ready, with the reason of the Ready condition',
        check: (v) => {
            const ready = condition(v.pod, 'Ready');
            if (!ready?.reason)
                return undefined;
            return {
                state: 'progressing',
                reason: ready.reason,
                message: `pod ${v.name}: ${health_oneLine(ready.message || ready.reason)}`,
                summary: `pod ${v.name} is not ready (${ready.reason})`
            };
        }
    },
    {
        name: 'phase',
        check: (v) => {
            const phase = (v.pod.status?.phase || 'pending').toLowerCase();
            return {
                state: 'progressing',
                reason: v.pod.status?.phase || 'Pending',
                message: `pod ${v.name} is ${phase}`,
                summary: `pod ${v.name} is ${phase === 'running' ? 'running but not ready' : phase}`
            };
        }
    }
];
/** The first of `POD_CHECKS` that applies to the pod decides its finding. */
function inspectPod(pod, current, now, limits) {
    const name = pod.metadata.name ?? '?';
    const containers = health_containersOf(pod);
    const failedPhase = pod.status?.phase === 'Failed';
    // Once the rollout has completed, a pod that was Ready then and has failed since is final.
    const fellOver = limits.settled !== undefined &&
        failedPhase &&
        containers.some((c) => limits.settled?.has(containerKey(pod, c)));
    const view = {
        pod,
        name,
        containers,
        now,
        limits,
        of: (c) => `${c.label} of pod ${name}`,
        failedPhase,
        ranAndFailed: fellOver ? 'failed' : 'progressing'
    };
    for (const { check } of POD_CHECKS) {
        const found = check(view);
        if (found)
            return { pod, name, current, ...found };
    }
    // The last check (`phase`) always applies.
    throw new Error('no pod check applied');
}
function generationWait(o) {
    const gen = o.metadata.generation;
    const seen = o.status?.observedGeneration;
    if (gen !== undefined && (seen === undefined || seen < gen)) {
        return `waiting for the ${o.kind.toLowerCase()} spec update to be observed`;
    }
    return undefined;
}
function revisionOf(o) {
    return Number(o.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
}
function deploymentRollout(d, index) {
    const s = d.status ?? {};
    const desired = d.spec?.replicas ?? 1;
    const sets = index.ownedBy(d, 'ReplicaSet');
    const revision = revisionOf(d);
    const newest = sets.reduce((best, rs) => (!best || revisionOf(rs) > revisionOf(best) ? rs : best), undefined);
    const currentSet = sets.find((rs) => revision > 0 && revisionOf(rs) === revision) ?? newest;
    const pods = sets.flatMap((rs) => index.ownedBy(rs, 'Pod').map((pod) => ({ pod, current: rs === currentSet })));
    const updated = s.updatedReplicas ?? 0;
    const available = s.availableReplicas ?? 0;
    const ready = currentSet ? (currentSet.status?.readyReplicas ?? 0) : (s.readyReplicas ?? 0);
    const old = pods.filter((p) => !p.current && !isTerminal(p.pod) && !isDisplaced(p.pod)).length;
    const progressing = condition(d, 'Progressing');
    const failed = progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded'
        ? {
            reason: 'ProgressDeadlineExceeded',
            message: health_oneLine(progressing.message || `deployment ${d.metadata.name} exceeded its progress deadline`)
        }
        : undefined;
    const replicas = s.replicas ?? 0;
    let waiting = generationWait(d);
    if (!waiting && updated < desired)
        waiting = `${updated} out of ${desired} new replicas have been updated`;
    if (!waiting && replicas > updated)
        waiting = `${replicas - updated} old replicas are pending termination`;
    if (!waiting && replicas > desired)
        waiting = `${replicas - desired} extra replicas are pending termination`;
    if (!waiting && available < desired)
        waiting = `${available} of ${desired} updated replicas are available`;
    if (!waiting && (s.readyReplicas ?? 0) < desired)
        waiting = `${s.readyReplicas ?? 0} of ${desired} replicas are ready`;
    // Old pods that are terminating are no longer counted in the status, but still serve traffic.
    if (!waiting && old > 0)
        waiting = `${old} old pod${old === 1 ? ' is' : 's are'} still terminating`;
    return {
        desired,
        ready,
        waiting,
        waitingReason: 'RolloutInProgress',
        failed,
        pods,
        judgeFailedPods: true
    };
}
function statefulSetRollout(ss, index) {
    const s = ss.status ?? {};
    const desired = ss.spec?.replicas ?? 1;
    const ready = s.readyReplicas ?? 0;
    const strategy = ss.spec?.updateStrategy;
    const partition = strategy?.rollingUpdate?.partition ?? 0;
    const revision = s.updateRevision;
    const pods = index.ownedBy(ss, 'Pod').map((pod) => ({
        pod,
        current: !revision ||
            pod.metadata.labels?.['controller-revision-hash'] === undefined ||
            pod.metadata.labels['controller-revision-hash'] === revision
    }));
    let waiting = generationWait(ss);
    if (!waiting && (s.replicas ?? 0) > desired)
        waiting = `${(s.replicas ?? 0) - desired} extra replicas are pending termination`;
    if (!waiting && ready < desired)
        waiting = `${ready} of ${desired} replicas are ready`;
    if (!waiting && strategy?.type !== 'OnDelete') {
        if (partition > 0) {
            const want = Math.max(0, desired - partition);
            if ((s.updatedReplicas ?? 0) < want)
                waiting = `${s.updatedReplicas ?? 0} of ${want} pods have been updated`;
        }
        else if (s.currentRevision !== s.updateRevision) {
            waiting = `${s.updatedReplicas ?? 0} of ${desired} pods have been updated to revision ${s.updateRevision ?? '?'}`;
        }
    }
    return {
        desired,
        ready,
        waiting,
        waitingReason: 'RolloutInProgress',
        pods,
        judgeFailedPods: true
    };
}
function daemonSetRollout(ds, index) {
    const s = ds.status ?? {};
    const desired = s.desiredNumberScheduled ?? 0;
    const ready = s.numberReady ?? 0;
    const generation = ds.metadata.generation;
    const pods = index.ownedBy(ds, 'Pod').map((pod) => {
        const podGeneration = pod.metadata.labels?.['pod-template-generation'];
        return {
            pod,
            current: podGeneration === undefined ||
                generation === undefined ||
                Number(podGeneration) === generation
        };
    });
    let waiting = generationWait(ds);
    const updated = s.updatedNumberScheduled ?? 0;
    if (!waiting && updated < desired)
        waiting = `${updated} out of ${desired} new pods have been updated`;
    if (!waiting && ready < desired)
        waiting = `${ready} of ${desired} pods are ready`;
    if (!waiting && (s.numberAvailable ?? 0) < desired)
        waiting = `${s.numberAvailable ?? 0} of ${desired} updated pods are available`;
    return {
        desired,
        ready,
        waiting,
        waitingReason: 'RolloutInProgress',
        pods,
        judgeFailedPods: true
    };
}
function jobRollout(job, index) {
    const desired = job.spec?.completions ?? 1;
    const succeeded = job.status?.succeeded ?? 0;
    const pods = index.ownedBy(job, 'Pod').map((pod) => ({ pod, current: true }));
    const failedCondition = [condition(job, 'Failed'), condition(job, 'FailureTarget')].find(isTrue);
    const failed = failedCondition
        ? {
            reason: failedCondition.reason || 'Failed',
            message: health_oneLine(failedCondition.message || 'the job failed')
        }
        : undefined;
    const done = isTrue(condition(job, 'Complete'));
    const suspended = job.spec?.suspend === true;
    const waiting = done
        ? undefined
        : suspended
            ? 'the job is suspended'
            : `${succeeded} of ${desired} completions succeeded`;
    const waitingReason = suspended ? 'Suspended' : 'Running';
    // Its pods' failures are the Job's to count, against the backoff limit the user chose.
    return {
        desired,
        ready: succeeded,
        waiting,
        waitingReason,
        failed,
        pods,
        judgeFailedPods: false,
        done
    };
}
const RANK = { failed: 0, progressing: 1, healthy: 2 };
function byTrouble(a, b) {
    return (RANK[a.state] - RANK[b.state] ||
        Number(b.current) - Number(a.current) ||
        a.name.localeCompare(b.name));
}
/**
 * Pods that ran and failed, grouped by how, over this poll and the earlier ones: a group of two
 * is a replacement failing alike. Across polls because a DaemonSet deletes each failed pod
 * before it creates the next, so no one poll shows two.
 */
function repeatedFailure(findings, seen) {
    for (const f of findings) {
        if (!f.failedAs || !f.current)
            continue;
        const group = seen.get(f.failedAs) ?? new Map();
        group.set(f.pod.metadata.uid ?? f.name, f);
        seen.set(f.failedAs, group);
    }
    return [...seen.values()].map((g) => [...g.values()]).find((g) => g.length >= 2);
}
function newest(findings) {
    const created = (f) => timeOf(f.pod.metadata.creationTimestamp) ?? 0;
    return findings.reduce((best, f) => (!best || created(f) > created(best) ? f : best), undefined);
}
function verdictOf(ref, rollout, findings, restarts, seen) {
    const sorted = [...findings].sort(byTrouble);
    const base = {
        kind: ref.kind,
        name: ref.name,
        ready: `${rollout.ready}/${rollout.desired}`,
        restarts,
        pods: sorted.map((f) => f.name)
    };
    // A Job that completed is done, whatever its earlier attempts went through.
    if (rollout.done)
        return { ...base, state: 'healthy', unhealthyPods: [] };
    const unhealthyPods = sorted.filter((f) => f.state !== 'healthy').map((f) => f.name);
    const failed = (reason, message, summary) => ({
        ...base,
        state: 'failed',
        reason,
        message,
        summary,
        unhealthyPods
    });
    const failedPod = sorted.find((f) => f.state === 'failed' && f.current);
    if (failedPod)
        return failed(failedPod.reason, failedPod.message, failedPod.summary);
    if (rollout.failed) {
        // The workload says why it gave up; its latest failed pod says what went wrong.
        const evidence = newest(sorted.filter((f) => f.failedAs));
        const message = evidence?.message
            ? `${rollout.failed.message}; ${evidence.message}`
            : rollout.failed.message;
        const summary = evidence?.summary
            ? `${rollout.failed.reason} (${evidence.summary})`
            : rollout.failed.reason;
        return failed(rollout.failed.reason, message, summary);
    }
    const repeated = rollout.judgeFailedPods ? repeatedFailure(sorted, seen) : undefined;
    if (repeated) {
        const last = newest(repeated);
        return failed(last.reason, `${repeated.length} pods failed the same way; ${last.message ?? last.name}`, `${repeated.length} pods failed the same way (${last.summary ?? `pod ${last.name} failed`})`);
    }
    const blocking = sorted.find((f) => f.state === 'progressing' && isLive(f.pod));
    if (rollout.waiting === undefined && !blocking)
        return { ...base, state: 'healthy', unhealthyPods: [] };
    const progressing = (reason, message, summary) => ({
        ...base,
        state: 'progressing',
        reason,
        message,
        summary,
        unhealthyPods
    });
    if (blocking?.current)
        return progressing(blocking.reason, blocking.message, blocking.summary);
    const waiting = rollout.waiting ?? blocking?.message;
    return progressing(rollout.waitingReason, waiting, rollout.waiting ?? blocking?.summary);
}
function podVerdict(ref, pod, now, limits) {
    const f = inspectPod(pod, true, now, limits);
    const ready = `${f.state === 'healthy' ? 1 : 0}/1`;
    const base = { kind: ref.kind, name: ref.name, ready, restarts: restartsOf(pod), pods: [f.name] };
    if (f.state === 'healthy')
        return { ...base, state: 'healthy', unhealthyPods: [] };
    const found = {
        reason: f.reason,
        message: f.message,
        summary: f.summary,
        unhealthyPods: [f.name]
    };
    // A bare pod has no replacement: once it ran and failed, or was evicted, it stays so.
    if (f.state === 'failed' || f.failedAs)
        return { ...base, state: 'failed', ...found };
    return { ...base, state: 'progressing', ...found };
}
/** An aggregated API is served once its APIService is `Available`; until then its group is missing. */
function apiServiceVerdict(ref, o) {
    const available = condition(o, 'Available');
    const base = { kind: ref.kind, name: ref.name, restarts: 0, pods: [], unhealthyPods: [] };
    if (isTrue(available))
        return { ...base, state: 'healthy', ready: '1/1' };
    const reason = available?.reason || 'NotAvailable';
    const service = o.spec?.service;
    const backend = service?.name ? ` (service ${service.namespace ?? '?'}/${service.name})` : '';
    return {
        ...base,
        state: 'progressing',
        ready: '0/1',
        reason,
        message: health_oneLine(available?.message || `apiservice ${ref.name} is not available`),
        summary: `not Available: ${reason}${backend}`
    };
}
/**
 * What earlier polls of one wait saw, so that failures spread over several polls add up. Give
 * the same memory to every `evaluate` of one wait.
 */
class PollMemory {
    failures = new Map();
    for(ref) {
        const key = `${ref.kind}/${ref.namespace}/${ref.name}`;
        let seen = this.failures.get(key);
        if (!seen) {
            seen = new Map();
            this.failures.set(key, seen);
        }
        return seen;
    }
}
function containerKey(pod, c) {
    const id = pod.metadata.uid ?? `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    return `${id}/${c.label}`;
}
/** The restart count of every container in `state`: from then on, a restart is a failure. */
function settledOf(state) {
    const out = new Map();
    for (const item of state.items) {
        const o = asObject(item);
        if (o?.kind !== 'Pod')
            continue;
        for (const c of health_containersOf(o))
            out.set(containerKey(o, c), c.status.restartCount ?? 0);
    }
    return out;
}
/** A workload judged by its rollout status and the findings of its pods. */
function byRollout(rolloutOf) {
    return (ref, obj, { index, now, limits, memory }) => {
        const rollout = rolloutOf(obj, index);
        const counted = rollout.pods.filter((p) => !isDisplaced(p.pod));
        const findings = counted.map((p) => inspectPod(p.pod, p.current, now, limits));
        const restarts = counted.reduce((n, p) => n + restartsOf(p.pod), 0);
        return verdictOf(ref, rollout, findings, restarts, memory.for(ref));
    };
}
/** The rollout rules, by kind, in the order kubectl is asked for their resources. */
const KINDS = {
    Deployment: {
        api: 'apps/v1',
        resources: ['deployments', 'replicasets'],
        judge: byRollout(deploymentRollout)
    },
    StatefulSet: {
        api: 'apps/v1',
        resources: ['statefulsets'],
        judge: byRollout(statefulSetRollout)
    },
    DaemonSet: { api: 'apps/v1', resources: ['daemonsets'], judge: byRollout(daemonSetRollout) },
    Job: { api: 'batch/v1', resources: ['jobs'], judge: byRollout(jobRollout) },
    Pod: {
        api: 'v1',
        resources: ['pods'],
        judge: (ref, obj, { now, limits }) => podVerdict(ref, obj, now, limits)
    },
    APIService: {
        api: 'apiregistration.k8s.io/v1',
        resources: ['apiservices'],
        judge: (ref, obj) => apiServiceVerdict(ref, obj)
    }
};
/**
 * One verdict per workload, in the order given. `now` (epoch ms) measures how long a pod has
 * been unschedulable.
 */
function evaluate(workloads, state, now, opts = {}) {
    const limits = {
        grace: opts.unschedulableGraceMs ?? DEFAULT_UNSCHEDULABLE_GRACE_MS,
        restarts: opts.crashLoopRestarts ?? DEFAULT_CRASH_LOOP_RESTARTS,
        settled: opts.settled
    };
    const memory = opts.memory ?? new PollMemory();
    const index = new ClusterIndex(state.items);
    return workloads.map((ref) => {
        const obj = index.find(ref);
        if (!obj) {
            const where = ref.kind === 'APIService' ? '' : ` in namespace ${ref.namespace}`;
            return {
                kind: ref.kind,
                name: ref.name,
                state: 'progressing',
                ready: '0/?',
                restarts: 0,
                reason: 'NotFound',
                message: `${ref.kind.toLowerCase()} ${ref.name} was not found${where}`,
                summary: `not found${where}`,
                pods: [],
                unhealthyPods: []
            };
        }
        return KINDS[ref.kind].judge(ref, obj, { index, now, limits, memory });
    });
}

;// CONCATENATED MODULE: ./src/verify/hooks.ts
// A release's hooks run inside `helm upgrade`, and helm waits for each hook Job or Pod up to its
// --timeout however hopeless it is (a hook pod in ImagePullBackOff holds it for the whole wait).
// Watching them with the same verdicts as the workloads lets the run stop helm the moment a
// hook is in a state that will not heal, and say which hook and why.

const HOOK_POLL_MS = 2_000;
/** Hook objects created this long before helm started still count (clocks of runner and API server). */
const CLOCK_SKEW_MS = 5_000;
/** Hook Jobs and bare hook Pods in the list, created since `since` (test hooks are helm test's). */
function hooksOf(state, namespace, since) {
    const out = [];
    for (const item of state.items) {
        const o = item;
        if (o.kind !== 'Job' && o.kind !== 'Pod')
            continue;
        const hook = o.metadata?.annotations?.['helm.sh/hook'];
        const name = o.metadata?.name;
        if (!hook || !name)
            continue;
        if (o.kind === 'Pod' && (o.metadata?.ownerReferences?.length ?? 0) > 0)
            continue;
        const events = hook.split(',').map((h) => h.trim());
        if (events.every((h) => h === 'test' || h === 'test-success'))
            continue;
        const created = Date.parse(o.metadata?.creationTimestamp ?? '');
        if (!Number.isNaN(created) && created < since - CLOCK_SKEW_MS)
            continue;
        out.push({ kind: o.kind, name, namespace, hook: events.join(',') });
    }
    return out;
}
function hooks_pause(ms, signal) {
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        signal.addEventListener('abort', done, { once: true });
        function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
        }
    });
}
/**
 * Polls the namespace's hook Jobs and Pods until `signal` ends the watch or one of them has
 * failed. Never throws: a poll that cannot read the cluster is tried again at the next one.
 */
async function watchHooks(kubectl, namespace, opts) {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? hooks_pause;
    const memory = new PollMemory();
    const latest = new Map();
    const result = (failed) => ({ verdicts: [...latest.values()], failed });
    while (!opts.signal.aborted) {
        try {
            const list = await kubectl.getJson('jobs,pods', namespace, 30_000);
            const state = { items: Array.isArray(list.items) ? list.items : [] };
            const hooks = hooksOf(state, namespace, opts.since);
            const verdicts = evaluate(hooks, state, now(), { ...opts, memory });
            const seen = hooks.map((h, i) => ({ ...verdicts[i], hook: h.hook }));
            for (const v of seen)
                latest.set(`${v.kind}/${v.name}`, v);
            const failed = seen.find((v) => v.state === 'failed');
            if (failed && !opts.signal.aborted)
                return result(failed);
        }
        catch {
            // The API server may be busy with the install; the next poll tries again.
        }
        await sleep(opts.pollMs ?? HOOK_POLL_MS, opts.signal);
    }
    return result();
}

;// CONCATENATED MODULE: ./src/stages/release.ts
// The release stage: chart dependencies, rendering, `helm upgrade --install` while the hooks
// are watched, and the rollback after diagnostics when the release is not healthy.














/**
 * Each image at its `values` path: a pushed image (`cluster: existing`) pinned to the digest the
 * registry holds, so the cluster runs exactly what was built; otherwise the loaded `name:tag`.
 */
function imageValues(run) {
    return run.inputs.images
        .filter((i) => i.values)
        .map((i) => {
        const path = i.values;
        const info = run.images.get(i.name);
        if (info?.pushed && info.digest)
            return digestPinnedValue(path, pushedImage(info.pushed, info.digest));
        return { path, repository: i.name, tag: run.found.imageTag };
    });
}
function values(run, secretValuesFile) {
    const i = run.inputs;
    return {
        valuesFiles: i.valuesFiles,
        secretValuesFile,
        set: i.set,
        setString: i.setString,
        images: imageValues(run)
    };
}
/** Secret values live in a 0600 file for exactly as long as helm needs them. */
async function withSecretValues(run, use) {
    if (run.inputs.secretValues.length === 0)
        return use(undefined);
    const dir = (0,external_node_path_.join)(run.env.runnerTemp, `minikube-preview-secrets-${process.pid}`);
    // Saved first: if this process is killed while helm runs, the post step removes the folder.
    state.saveSecretsDir(dir);
    (0,external_node_fs_.mkdirSync)(dir, { recursive: true, mode: 0o700 });
    const file = (0,external_node_path_.join)(dir, 'secret-values.yaml');
    (0,external_node_fs_.writeFileSync)(file, (0,dist/* stringify */.As)(secretValuesDocument(run.inputs.secretValues)), { mode: 0o600 });
    try {
        return await use(file);
    }
    finally {
        (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true });
    }
}
function fileText(path) {
    try {
        return (0,external_node_fs_.readFileSync)(path, 'utf8');
    }
    catch {
        return undefined;
    }
}
/**
 * Helm refuses a Chart.lock whose repositories it was not told about, so each repository the
 * dependencies come from goes into a repository config of this run's own (never the user's),
 * then helm fills `charts/`. Repositories the user added (`@name`, credentials) are used as
 * they are.
 */
async function buildDependencies(run, log) {
    const chart = run.found.chart;
    const helm = run.helm(log);
    const userConfig = await helm.repositoryConfig();
    const needed = dependencyRepositories(fileText((0,external_node_path_.join)(chart, 'Chart.yaml')) ?? '', fileText((0,external_node_path_.join)(chart, 'Chart.lock')), repositoryEntries(userConfig ? fileText(userConfig) : undefined), userConfig || undefined);
    if (needed.problems.length > 0)
        throw new Error(needed.problems.join('; '));
    for (const entry of needed.reuse) {
        if (typeof entry['password'] === 'string' && entry['password'] !== '') {
            core/* setSecret */.Pq(entry['password']);
            registerSecret(entry['password']);
        }
    }
    const dir = (0,external_node_path_.join)(run.env.runnerTemp, `minikube-preview-helm-repositories-${process.pid}`);
    // Saved first: if this process is killed while helm runs, the post step removes the folder.
    state.saveRepositoriesDir(dir);
    (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true });
    (0,external_node_fs_.mkdirSync)(dir, { recursive: true, mode: 0o700 });
    const repos = {
        config: (0,external_node_path_.join)(dir, 'repositories.yaml'),
        cache: (0,external_node_path_.join)(dir, 'cache'),
        skipRefresh: needed.reuse.length === 0
    };
    try {
        (0,external_node_fs_.writeFileSync)(repos.config, (0,dist/* stringify */.As)({ apiVersion: '', repositories: needed.reuse }), {
            mode: 0o600
        });
        for (const entry of needed.reuse) {
            log.info(`chart repository '${entry.name}' (${entry.url}) as configured in ${userConfig}`);
        }
        for (const { name, url } of needed.add) {
            await helm.repoAdd(name, url, repos, 3 * 60_000);
            log.info(`chart repository ${url} added as '${name}'`);
        }
        await helm.dependencyBuild(chart, repos, 10 * 60_000);
    }
    finally {
        (0,external_node_fs_.rmSync)(dir, { recursive: true, force: true });
    }
}
/** Renders the chart to learn what it will create (an Ingress turns the ingress addon on). */
async function render(run, log) {
    const helm = run.helm();
    const manifest = await withSecretValues(run, (file) => helm.template({
        ...values(run, file),
        release: run.found.release,
        chart: run.found.chart,
        namespace: run.inputs.namespace
    }, 5 * 60_000));
    run.rendered = manifestObjects(manifest);
    const kinds = [...new Set(run.rendered.map((o) => o.kind))].sort();
    log.info(`the chart renders ${run.rendered.length} objects: ${kinds.join(', ')}`);
}
async function deploy(run, log) {
    const i = run.inputs;
    const release = run.found.release;
    const helm = run.helm(log);
    const { note } = translateHelmArgs(i.helmArgs, run.helmMajor);
    if (note)
        core/* warning */.$e(note);
    const labelled = releaseLabels(run);
    run.release = {
        name: release,
        namespace: i.namespace,
        chart: run.found.chartName ?? run.found.chart,
        chartVersion: run.found.chartVersion,
        helmVersion: run.tools.get('helm')?.version
    };
    await withSecretValues(run, (file) => upgradeWatchingHooks(run, log, (signal) => helm.upgrade({
        ...values(run, file),
        release,
        chart: run.found.chart,
        namespace: i.namespace,
        timeoutMs: i.waitTimeoutMs,
        helmArgs: i.helmArgs,
        helmMajor: run.helmMajor,
        // On a shared cluster the namespace step made it, or found one helm must not relabel.
        createNamespace: i.cluster !== 'existing',
        ...(labelled ? { labels: previewLabels(labelled) } : {})
    }, signal)));
    const [revision, manifest, hooks] = await Promise.all([
        helm.revision(release, i.namespace),
        helm.manifest(release, i.namespace),
        helm.hooks(release, i.namespace).catch(() => '')
    ]);
    run.release.revision = revision;
    run.hooksManifest = hooks;
    run.deployed = manifestObjects(manifest);
    run.workloads = workloadsOf(run.deployed, i.namespace);
    log.info(`release ${release} revision ${revision} in ${i.namespace}: ${run.workloads.length} workloads to verify`);
    run.preview.url = previewUrl(run);
    if (run.preview.url)
        log.info(`the preview's URL: ${run.preview.url}`);
    state.saveDeployed();
}
/** `pre-install hook Job app-migrate`: which hook, in the words of the chart. */
function hookName(v) {
    return `${v.hook ?? ''} hook ${v.kind} ${v.name}`.trim();
}
/**
 * Runs `helm upgrade` while watching the release's hooks; a hook in a state that will not heal
 * stops helm at once (with fail-fast) instead of after the whole wait-timeout.
 */
async function upgradeWatchingHooks(run, log, upgrade) {
    const stopHelm = new AbortController();
    const helmDone = new AbortController();
    const since = Date.now();
    const watching = watchHooks(run.kubectl(), run.inputs.namespace, {
        since,
        signal: helmDone.signal
    }).then((watch) => {
        if (watch.failed && run.inputs.failFast) {
            const v = watch.failed;
            log.info(`${hookName(v)} will not succeed (${v.reason ?? 'failed'}): stopping helm`);
            stopHelm.abort(new Error(`the ${hookName(v)} failed: ${v.summary ?? v.reason ?? 'failed'}; helm upgrade was stopped`));
        }
        return watch;
    });
    try {
        return await upgrade(stopHelm.signal);
    }
    catch (err) {
        // The release's hooks go into the report, so that the table and the diagnostics show them.
        helmDone.abort();
        run.verdicts = (await watching).verdicts;
        throw err;
    }
    finally {
        helmDone.abort();
        run.hooks = (await watching).verdicts;
    }
}
/** After diagnostics: back to the last good revision, or away entirely if there was none. */
async function rollback(run, log, results) {
    if (!run.troubled(results)) {
        log.info('the release is healthy; nothing to roll back');
        return;
    }
    const release = run.found.release;
    const helm = run.helm(log);
    const revision = run.release?.revision ?? 1;
    if (revision > 1) {
        await helm.rollback(release, run.inputs.namespace, run.inputs.waitTimeoutMs);
        log.info(`rolled ${release} back from revision ${revision}`);
    }
    else {
        await helm.uninstall(release, run.inputs.namespace, run.inputs.waitTimeoutMs);
        log.info(`uninstalled ${release}: its first revision never became healthy`);
    }
}

;// CONCATENATED MODULE: ./src/verify/helmtest.ts
// `helm test` and what its test pods said. Only flags Helm 3 and Helm 4 share are used
// (`--namespace`, `--timeout`); the logs come from kubectl, which works the same for both.




const LOG_LINES = 100;
function shouldRunHelmTest(mode, hooksManifest) {
    if (mode === 'true')
        return true;
    if (mode === 'false')
        return false;
    return testHooks(hooksManifest).length > 0;
}
/** `Phase: Failed` per `TEST SUITE:` in helm's output, for test pods deleted by their hook policy. */
function phasesFromHelmOutput(output) {
    const phases = new Map();
    let suite;
    for (const line of output.split(/\r?\n/)) {
        const name = /^TEST SUITE:\s+(\S+)/.exec(line);
        if (name) {
            suite = name[1];
            continue;
        }
        const phase = /^Phase:\s+(\S+)/.exec(line);
        if (phase && suite) {
            phases.set(suite, phase[1]);
            suite = undefined;
        }
    }
    return phases;
}
/** The last `n` lines of a log, so one chatty test cannot swamp the report. */
function logTail(log, n = LOG_LINES) {
    return redact(tailLines(log, n));
}
/** The pods a test hook ran: the Pod itself, or the pods of a Job. */
async function podsOf(hook, namespace, kubectl) {
    if (hook.kind === 'Pod') {
        try {
            const pod = await kubectl.get('pod', hook.name, namespace);
            return [{ name: hook.name, phase: pod.status?.phase }];
        }
        catch {
            // Deleted by `helm.sh/hook-delete-policy: hook-succeeded`, or never created.
            return [{ name: hook.name }];
        }
    }
    try {
        const list = await kubectl.getJson('pods', namespace);
        return list.items
            .filter((p) => {
            const labels = p.metadata?.labels ?? {};
            return (labels['batch.kubernetes.io/job-name'] === hook.name || labels['job-name'] === hook.name);
        })
            .map((p) => ({ name: p.metadata?.name ?? hook.name, phase: p.status?.phase }));
    }
    catch {
        return [];
    }
}
async function runHelmTest(opts) {
    const { helm, kubectl, release, namespace, timeoutMs } = opts;
    let exitCode;
    let output = '';
    let message;
    try {
        const r = await helm.test(release, namespace, timeoutMs, opts.signal);
        exitCode = r.exitCode;
        output = `${r.stdout}\n${r.stderr}`;
        if (r.exitCode !== 0)
            message = lastLines(r.stderr, 6) || lastLines(r.stdout, 6);
    }
    catch (err) {
        // Timed out or could not be started.
        exitCode = null;
        message = redact(errorMessage(err));
    }
    const fromHelm = phasesFromHelmOutput(output);
    const pods = [];
    // A Job's own retries may fail before it succeeds; only a test Pod's phase is a verdict.
    const verdictPods = new Set();
    for (const hook of testHooks(opts.hooksManifest)) {
        if (hook.kind !== 'Pod' && hook.kind !== 'Job')
            continue;
        const ns = hook.namespace ?? namespace;
        for (const pod of await podsOf(hook, ns, kubectl)) {
            const phase = pod.phase ?? fromHelm.get(hook.name) ?? 'Unknown';
            const entry = { name: pod.name, phase };
            if (pod.phase !== undefined) {
                const log = await kubectl
                    .logs(pod.name, ns, { tail: LOG_LINES })
                    .catch((err) => errorMessage(err));
                if (log.trim() !== '')
                    entry.log = logTail(log);
            }
            pods.push(entry);
            if (hook.kind === 'Pod')
                verdictPods.add(pod.name);
        }
    }
    const failedPods = pods.filter((p) => verdictPods.has(p.name) && p.phase === 'Failed');
    const passed = exitCode === 0 && failedPods.length === 0;
    if (!passed && !message)
        message = `test pod ${failedPods.map((p) => p.name).join(', ')} failed`;
    return passed ? { passed, pods } : { passed, pods, message };
}

;// CONCATENATED MODULE: ./src/verify/watch.ts
// Waiting for a release's workloads to become healthy, and stopping early when one is in a
// state that will not heal: `helm --wait` and `kubectl rollout status` wait out the timeout.
// Then watching them stay healthy for a while: a pod that is Ready for a moment and then
// falls over is the common failure `helm --wait` calls a success.


const DEFAULT_POLL_MS = 2_000;
/** The cluster could not be read up to the end of the wait; carries what was last known. */
class WatchError extends Error {
    verdicts;
    polls;
    constructor(message, 
    /** The verdicts of the last poll that could read the cluster (none if none could). */
    verdicts, polls, options) {
        super(message, options);
        this.verdicts = verdicts;
        this.polls = polls;
        this.name = 'WatchError';
    }
}
const realSleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The bound on one kubectl call: long enough for a slow API server, short of the whole wait. */
const CALL_TIMEOUT_MS = 30_000;
const MIN_CALL_TIMEOUT_MS = 5_000;
/** One read of every namespace the workloads live in: one kubectl call per namespace. */
async function readState(kubectl, namespace, workloads, left) {
    const namespaces = [...new Set(workloads.map((w) => w.namespace || namespace))];
    if (namespaces.length === 0)
        namespaces.push(namespace);
    const items = [];
    for (const ns of namespaces) {
        const kinds = workloads.filter((w) => (w.namespace || namespace) === ns).map((w) => w.kind);
        const callMs = Math.max(MIN_CALL_TIMEOUT_MS, Math.min(CALL_TIMEOUT_MS, left));
        const list = await kubectl.getJson(resourcesFor(kinds).join(','), ns, callMs);
        items.push(...(Array.isArray(list.items) ? list.items : []));
    }
    return { items };
}
function unreadable(lastError, verdicts, polls) {
    const why = errorMessage(lastError);
    throw new WatchError(`could not read the state of the workloads: ${why}`, verdicts ?? [], polls, {
        cause: lastError
    });
}
/**
 * Polls the workloads (one kubectl call per namespace per poll) until all are healthy, one has
 * failed (with `failFast`), or `timeoutMs` has passed. A kubectl failure is retried on the next
 * poll; only one that lasts to the end fails the wait, with a `WatchError`.
 */
async function watchWorkloads(kubectl, namespace, workloads, opts) {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? realSleep;
    const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    const deadline = now() + opts.timeoutMs;
    const memory = opts.memory ?? new PollMemory();
    let verdicts;
    let state;
    let lastError;
    let polls = 0;
    for (;;) {
        polls++;
        try {
            state = await readState(kubectl, namespace, workloads, deadline - now());
            verdicts = evaluate(workloads, state, now(), { ...opts, memory });
            lastError = undefined;
            opts.onPoll?.(verdicts);
            if (verdicts.every((v) => v.state === 'healthy'))
                return { verdicts, timedOut: false, polls, state };
            if (opts.failFast && verdicts.some((v) => v.state === 'failed'))
                return { verdicts, timedOut: false, polls, state };
        }
        catch (err) {
            lastError = err;
        }
        const left = deadline - now();
        if (left <= 0)
            break;
        await sleep(Math.min(pollMs, left));
    }
    if (lastError !== undefined)
        unreadable(lastError, verdicts, polls);
    const waited = formatMs(opts.timeoutMs);
    const last = (verdicts ?? []).map((v) => v.state === 'progressing' && !v.reason
        ? { ...v, reason: 'Timeout', message: v.message ?? `not healthy after ${waited}` }
        : v);
    return { verdicts: last, timedOut: true, polls, state };
}
function watch_seconds(ms) {
    return `${(ms / 1000).toFixed(1)} s`;
}
/**
 * A verdict of the window: anything but healthy, a restart, or a pod the rollout did not have
 * (the workload replaced one) ends it, as a failure, `after` ms into it.
 */
function breach(v, before, after) {
    const when = `${watch_seconds(after)} after the rollout completed`;
    if (v.state !== 'healthy') {
        return {
            ...v,
            state: 'failed',
            summary: `${v.summary ?? v.reason ?? 'not healthy'}, ${when}`
        };
    }
    const known = new Set(before?.pods ?? []);
    const added = before ? v.pods.filter((p) => !known.has(p)) : [];
    if (added.length > 0) {
        const gone = (before?.pods ?? []).filter((p) => !v.pods.includes(p));
        const replaced = gone.length > 0 ? ` in place of ${gone.join(', ')}` : '';
        return {
            ...v,
            state: 'failed',
            reason: 'RolloutMoved',
            message: `pod ${added.join(', ')} was created after the rollout completed${replaced}`,
            summary: `the rollout moved again: pod ${added.join(', ')} was created${replaced}, ${when}`,
            unhealthyPods: [...added, ...gone]
        };
    }
    return undefined;
}
/**
 * Keeps polling a release whose workloads are all healthy for `stableForMs`. Ends at the first
 * poll where a workload is not healthy, a container has restarted since the rollout completed,
 * or a workload has a pod it did not have then; the verdicts say which and why.
 */
async function watchStable(kubectl, namespace, workloads, opts) {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? realSleep;
    const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
    const start = now();
    const end = start + opts.stableForMs;
    const settled = settledOf(opts.completed);
    const memory = opts.memory ?? new PollMemory();
    const before = new Map(opts.healthy.map((v) => [`${v.kind}/${v.name}`, v]));
    let verdicts = opts.healthy;
    let healthyForMs = 0;
    let lastError;
    let polls = 0;
    for (let left = end - now(); left > 0; left = end - now()) {
        await sleep(Math.min(pollMs, left));
        polls++;
        try {
            const state = await readState(kubectl, namespace, workloads, end - now());
            const at = now();
            const seen = evaluate(workloads, state, at, { ...opts, settled, memory });
            lastError = undefined;
            opts.onPoll?.(seen);
            const after = at - start;
            const broken = seen.map((v) => breach(v, before.get(`${v.kind}/${v.name}`), after));
            verdicts = seen.map((v, i) => broken[i] ?? v);
            if (broken.some((b) => b !== undefined)) {
                return { verdicts, held: false, healthyForMs: after, polls };
            }
            healthyForMs = after;
        }
        catch (err) {
            lastError = err;
        }
    }
    if (lastError !== undefined)
        unreadable(lastError, verdicts, polls);
    return { verdicts, held: true, healthyForMs: Math.max(healthyForMs, opts.stableForMs), polls };
}

;// CONCATENATED MODULE: ./src/stages/verify.ts





/** One line per change of the verdicts: a five-minute wait would otherwise print 150 of them. */
function pollLogger(log) {
    let last = '';
    return (verdicts) => {
        const line = verdicts
            .map((w) => `${w.kind}/${w.name} ${w.state} ${w.ready}${w.reason ? ` ${w.reason}` : ''}`)
            .join(', ');
        if (line !== last)
            log.info(line);
        last = line;
    };
}
/** `Deployment web is not healthy: …` for the step's failure, in one sentence. */
function unhealthy(verdicts, how) {
    const bad = verdicts.filter((v) => v.state !== 'healthy');
    const first = bad.find((v) => v.state === 'failed') ?? bad[0];
    if (!first)
        return undefined;
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more not healthy)` : '';
    const why = first.summary ?? first.reason ?? 'not ready';
    return new Error(`${first.kind} ${first.name} ${how}: ${why}${more}`);
}
/** Waits until every workload is healthy (the rollout completed), or one will not heal. */
async function verify(run, log) {
    const i = run.inputs;
    run.verifyDeadline = Date.now() + i.waitTimeoutMs;
    run.verify = { stableForMs: i.stableForMs };
    let watched;
    try {
        watched = await watchWorkloads(run.kubectl(), i.namespace, run.workloads, {
            timeoutMs: i.waitTimeoutMs,
            failFast: i.failFast,
            onPoll: pollLogger(log)
        });
    }
    catch (err) {
        // kubectl kept failing: keep the last verdicts it could read.
        if (err instanceof WatchError)
            run.verdicts = err.verdicts;
        throw err;
    }
    const { verdicts, timedOut, polls } = watched;
    run.verdicts = verdicts;
    if (timedOut)
        run.verify.timedOutAfterMs = i.waitTimeoutMs;
    const bad = verdicts.filter((v) => v.state !== 'healthy');
    log.info(`${verdicts.length - bad.length}/${verdicts.length} workloads healthy after ${polls} polls`);
    const failure = unhealthy(verdicts, timedOut ? `is not healthy after ${formatMs(i.waitTimeoutMs)}` : 'is not healthy');
    if (failure)
        throw failure;
    run.completed = watched.state;
}
/** The `stable-for` window: every workload must stay healthy that long. */
async function stable(run, log) {
    const i = run.inputs;
    if (run.workloads.length === 0) {
        log.info('the release has no workloads to watch');
        return NOT_NEEDED;
    }
    let watched;
    try {
        watched = await watchStable(run.kubectl(), i.namespace, run.workloads, {
            stableForMs: i.stableForMs,
            completed: run.completed ?? { items: [] },
            healthy: run.verdicts,
            onPoll: pollLogger(log)
        });
    }
    catch (err) {
        if (err instanceof WatchError && err.verdicts.length > 0)
            run.verdicts = err.verdicts;
        throw err;
    }
    run.verdicts = watched.verdicts;
    if (run.verify)
        run.verify.healthyForMs = watched.healthyForMs;
    const failure = unhealthy(watched.verdicts, 'did not stay healthy');
    if (failure) {
        // Checks still retrying against it would only wait out their deadline.
        run.unstable.abort(failure);
        throw failure;
    }
    log.info(`every workload stayed healthy for ${formatMs(watched.healthyForMs)}`);
}
async function healthChecks(run, log) {
    const deadline = Math.max(run.verifyDeadline ?? 0, Date.now() + 30_000);
    const results = await runHealthChecks(run.inputs.healthChecks, {
        kubectl: run.kubectl(),
        namespace: run.inputs.namespace,
        release: run.found.release,
        clusterIp: run.cluster?.ip,
        deadline,
        signal: run.unstable.signal,
        log
    });
    run.healthChecks = results;
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
        throw new Error(failed.map((f) => `${f.label}: ${f.error ?? `status ${f.status}`}`).join('; '));
    }
}
async function helmTest(run, log) {
    if (!shouldRunHelmTest(run.inputs.helmTest, run.hooksManifest)) {
        // Not a step of this run at all: the report shows no "Helm test" that did nothing.
        log.info('the chart has no test hooks; helm test is not run');
        return NOT_NEEDED;
    }
    const result = await runHelmTest({
        helm: run.helm(log),
        kubectl: run.kubectl(),
        release: run.found.release,
        namespace: run.inputs.namespace,
        timeoutMs: run.inputs.waitTimeoutMs,
        hooksManifest: run.hooksManifest,
        signal: run.unstable.signal
    });
    run.helmTest = result;
    if (!result.passed)
        throw new Error(result.message ?? 'helm test failed');
}

;// CONCATENATED MODULE: ./src/stages/index.ts









const STAGES = {
    install: (run, a, log) => install(run, a.tool, log),
    'cache-restore': (run, _a, log) => restoreCache(run, log),
    cluster: (run, _a, log) => startCluster(run, log),
    'helm-deps': (run, _a, log) => buildDependencies(run, log),
    render: (run, _a, log) => render(run, log),
    addons: (run, _a, log) => enableAddons(run, log),
    build: (run, a, log) => buildImage(run, a.image, log),
    load: (run, a, log) => loadImage(run, a.image, log),
    'registry-login': (run, _a, log) => registryLogin(run, log),
    push: (run, a, log) => pushLoadedImage(run, a.image, log),
    promote: (run, _a, log) => promote(run, log),
    deploy: (run, _a, log) => deploy(run, log),
    verify: (run, _a, log) => verify(run, log),
    stable: (run, _a, log) => stable(run, log),
    'health-checks': (run, _a, log) => healthChecks(run, log),
    'helm-test': (run, _a, log) => helmTest(run, log),
    diagnostics: (run, _a, log, results) => diagnose(run, log, results),
    rollback: (run, _a, log, results) => rollback(run, log, results),
    namespace: (run, _a, log) => prepareNamespace(run, log),
    'deployment-start': (run, _a, log) => beginDeployment(run, log),
    'url-check': (run, _a, log) => lifecycle_urlCheck(run, log),
    'deployment-finish': (run, _a, log, results) => endDeployment(run, log, results),
    teardown: (run, _a, log) => teardownPreview(run, log),
    deactivate: (run, _a, log) => deactivate(run, log),
    sweep: (run, _a, log) => sweep(run, log)
};
function perform(action, run, log, results) {
    return STAGES[action.kind](run, action, log, results);
}
/** Turns the plan's steps into runnable ones bound to this run's context. */
function bindSteps(plan, run) {
    return plan.map((p) => ({
        id: p.id,
        title: p.title,
        needs: p.needs,
        always: p.always,
        run: (log, results) => perform(p.action, run, log, results)
    }));
}

;// CONCATENATED MODULE: ./src/main.ts
// The main step: config → plan → schedule → reportOf → publish → outputs.



















function runFacts(env) {
    let payload = {};
    const eventPath = env['GITHUB_EVENT_PATH'];
    if (eventPath) {
        try {
            const parsed = JSON.parse((0,external_node_fs_.readFileSync)(eventPath, 'utf8'));
            if (parsed && typeof parsed === 'object')
                payload = parsed;
        }
        catch {
            // no payload: not a pull request
        }
    }
    const server = env['GITHUB_SERVER_URL'] || 'https://github.com';
    const repo = env['GITHUB_REPOSITORY'];
    const runId = env['GITHUB_RUN_ID'];
    return {
        repository: repo,
        // On pull requests GITHUB_SHA is a merge commit nobody has seen; the head is what people know.
        commit: payload.pull_request?.head?.sha || env['GITHUB_SHA'] || undefined,
        ref: env['GITHUB_HEAD_REF'] || env['GITHUB_REF'],
        event: env['GITHUB_EVENT_NAME'],
        eventAction: typeof payload.action === 'string' ? payload.action : undefined,
        branch: env['GITHUB_HEAD_REF'] || payload.pull_request?.head?.ref || undefined,
        merged: payload.pull_request?.merged === true ? true : undefined,
        runUrl: repo && runId ? `${server}/${repo}/actions/runs/${runId}` : undefined,
        pullRequest: prFromPayload(payload)
    };
}
function readInput(name) {
    return core/* getInput */.V4(name);
}
const ICONS = { success: '✅', failure: '❌', skipped: '⏭️' };
function logStep(step, result, log) {
    const took = result.durationMs !== undefined
        ? ` (${formatMs(Math.round(result.durationMs / 100) * 100)})`
        : '';
    if (result.status === 'skipped') {
        core/* info */.pq(`${ICONS['skipped']} ${step.title}: ${result.reason}`);
        return;
    }
    core/* startGroup */.Oh(`${ICONS[result.status] ?? ''} ${step.title}${took}`);
    const text = log.toString().trimEnd();
    if (text)
        core/* info */.pq(redact(text));
    if (result.status === 'failure')
        core/* info */.pq(`failed: ${redact(result.reason ?? '')}`);
    core/* endGroup */.N4();
}
/** inputs → plan → run → report → outputs. Never throws: every failure ends in the report. */
async function main_run(env = process.env) {
    const startedAt = Date.now();
    const facts = runFacts(env);
    let inputs;
    let found;
    const workspace = env['GITHUB_WORKSPACE'] || process.cwd();
    const summaryOff = core/* getInput */.V4('job-summary').trim().toLowerCase() === 'false';
    try {
        // Masked before anything reads them: no error about them can show them.
        maskRawSecrets(core/* getInput */.V4('github-token'), core/* getInput */.V4('secret-values'));
        maskRawSecrets(core/* getInput */.V4('registry-password'), '');
        inputs = withEventDefaults(parseInputs(readInput, workspace), {
            ...facts,
            actor: env['GITHUB_ACTOR']
        });
        maskSecrets(inputs.secretValues);
        found = discover(inputs, workspace, facts.commit);
    }
    catch (err) {
        const problems = err instanceof InputErrors
            ? err.problems
            : [`the inputs could not be read: ${errorMessage(err)}`];
        await refuse(problems.map(redact), summaryOff);
        return;
    }
    // Everything the inputs hold is read; no program this run starts (tar included) gets them.
    dropInputsFromEnvironment(process.env);
    for (const note of unusedInputs(inputs))
        core/* warning */.$e(note);
    const slug = found.commentHeader.replace(/[^A-Za-z0-9._-]+/g, '-');
    const mode = runMode(inputs, facts);
    const ctx = new RunContext(inputs, found, facts, environment(env, slug), startedAt, mode);
    (0,external_node_fs_.mkdirSync)(ctx.env.outDir, { recursive: true });
    state.saveCluster(inputs.cluster);
    state.saveCleanup(cleanupFor(inputs, facts, mode));
    state.saveNamespace(inputs.namespace);
    state.saveRelease(found.release);
    if (mode === 'teardown')
        core/* info */.pq(`The pull request was closed: removing its preview`);
    else if (!found.chart && mode === 'preview')
        core/* info */.pq('No chart was given and none was found under charts/: setting up the cluster only');
    const plan = buildPlan(inputs, found, mode);
    const results = await runSteps(bindSteps(plan, ctx), undefined, {
        started: (step) => core/* info */.pq(`▶ ${step.title}`),
        finished: (step, result, log) => logStep(step, result, log)
    });
    const report = reportOf(ctx, results);
    state.saveStatus(report.status);
    const reportPath = (0,external_node_path_.join)(ctx.env.outDir, 'report.json');
    await publish(report, {
        commentHeader: ctx.found.commentHeader,
        comment: ctx.inputs.comment,
        githubToken: ctx.inputs.githubToken,
        jobSummary: ctx.inputs.jobSummary,
        diagnosticsArtifact: ctx.inputs.diagnosticsArtifact,
        outDir: ctx.env.outDir
    }, reportPath);
    (0,external_node_fs_.writeFileSync)(reportPath, redact(JSON.stringify(report, null, 2)));
    for (const [name, value] of Object.entries(outputsOf(report, reportPath)))
        core/* setOutput */.uH(name, value);
    const took = formatMs(Math.round((report.durationMs ?? 0) / 1000) * 1000);
    if (report.status === 'removed')
        core/* info */.pq(`🧹 the preview was removed in ${took}`);
    else if (report.status === 'swept')
        core/* info */.pq(`🧹 swept in ${took}`);
    else if (report.status !== 'healthy')
        core/* setFailed */.C1(redact(report.reason ?? `the preview is ${report.status}`));
    else
        core/* info */.pq(`✅ healthy in ${took}`);
}
/**
 * What post cleans up. `auto`: everything the run made, except a pull request's preview on a
 * shared cluster, which outlives the job until the pull request closes (or `mode: sweep`).
 * Teardown and sweep leave post nothing to remove.
 */
function cleanupFor(inputs, facts, mode) {
    if (mode !== 'preview')
        return 'never';
    if (inputs.cleanup !== 'auto')
        return inputs.cleanup;
    const lasting = inputs.cluster === 'existing' && isPullRequestEvent(facts.event);
    return lasting ? 'never' : 'always';
}
/**
 * Registers the token and every value `secret-values` could hold, however malformed: a value
 * after `=`, and a line without one whole (a bare value, a YAML mapping's `key: value`).
 */
function maskRawSecrets(token, secretValues) {
    const mask = (v) => {
        if (v.trim() === '')
            return;
        core/* setSecret */.Pq(v.trim());
        registerSecret(v);
    };
    mask(token);
    for (const line of secretValues.split(/\r?\n/)) {
        const t = line.trim();
        if (t === '' || t.startsWith('#'))
            continue;
        const at = t.indexOf('=');
        if (at > 0) {
            mask(t.slice(at + 1));
            continue;
        }
        mask(t);
        const colon = t.indexOf(':');
        if (colon >= 0)
            mask(t.slice(colon + 1));
    }
}
/** The action's inputs (`INPUT_*`) leave the environment programs inherit. */
function dropInputsFromEnvironment(env) {
    for (const k of Object.keys(env))
        if (/^INPUT_/i.test(k))
            delete env[k];
}
/**
 * A run refused at its inputs: `status: error`, each problem once as an error annotation, and a
 * summary saying why (unless the summary is off). Nothing has been started.
 */
async function refuse(problems, summaryOff) {
    core/* setOutput */.uH('status', 'error');
    if (!summaryOff) {
        try {
            await core/* summary */.z
                .addRaw(`### ⛔ **error** — the inputs were refused; nothing was started\n\n`)
                .addList(problems.map((p) => summaryText(p, 1000)))
                .write();
        }
        catch {
            // no summary file outside a runner
        }
    }
    // One annotation per problem: setFailed would print the last one a second time.
    for (const p of problems)
        core/* error */.z3(p);
    process.exitCode = core/* ExitCode */.yU.Failure;
}

;// CONCATENATED MODULE: ./src/index.ts
// The bundle's entry: the main step, or the post step when the runner says this is post.





// The only top-level call: one bundle serves the main step and the post step.
async function src_entry() {
    if (state.isPost()) {
        await post();
    }
    else {
        state.markPost();
        await main_run();
    }
}
src_entry().catch((err) => {
    core/* setFailed */.C1(errorMessage(err));
});


/***/ })

};
