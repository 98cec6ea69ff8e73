/**
 * An HTTP reverse proxy in front of a real OpenSearch node that can hold one request back
 * and forward it later, to reproduce "a bulk the client gave up on (its timeout fired, it
 * closed the socket and retried) is executed by OpenSearch after newer writes": a server
 * that already read the request runs it whenever it gets to it, whatever the client did.
 *
 * Every request body is buffered whole before anything else happens, so a hold's `match`
 * sees the full NDJSON of a `_bulk`. Only the first request a hold matches is caught; the
 * client's retry (same bytes, new socket) passes straight through. A held request whose
 * client disconnected is still forwarded on `release()`; its answer goes to the test (and
 * to the client too if it is, unusually, still waiting) — to the test decoded, to the
 * client as OpenSearch sent it (gzipped if asked). Node built-ins only, plain http only.
 *
 * The port is a random one in 20000–30000, below the ephemeral range (32768–60999), so it
 * cannot collide with an outgoing connection's local port.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { pipeline } from "node:stream"
import * as zlib from "node:zlib"

export interface CaughtRequest {
  readonly method: string
  readonly path: string
  readonly body: string
}

export interface HeldRequest {
  /** Resolves once a matching request has been caught (its whole body read). */
  readonly caught: Promise<CaughtRequest>
  /** Forwards the caught request to OpenSearch now — even if the client that sent it has long given up and closed its socket — and resolves with OpenSearch's answer. Rejects if nothing was caught yet. */
  readonly release: () => Promise<{ status: number; body: string }>
}

export interface HoldingProxy {
  /** Base URL of the proxy, e.g. http://127.0.0.1:PORT (no trailing slash). */
  readonly url: string
  /** The next request for which `match` returns true is held (not forwarded) until `release()`; every other request is forwarded at once. One hold at a time is enough, but several outstanding holds must not break. */
  readonly holdNext: (match: (request: CaughtRequest) => boolean) => HeldRequest
  /** Requests forwarded so far (method + path), for assertions/debugging. */
  readonly forwarded: () => ReadonlyArray<{ method: string; path: string }>
  /** Stops listening; held requests that were never released are dropped. */
  readonly close: () => Promise<void>
}

const PORT_MIN = 20_000
const PORT_MAX = 30_000
const LISTEN_ATTEMPTS = 50

/** Per-hop headers (RFC 9110 §7.6.1) plus what buffering the body makes moot. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "content-length"
])

const ignore = (): void => undefined

/** `headers` without hop-by-hop ones, nor those the `connection` header names. */
const endToEnd = (headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders => {
  const named = new Set(
    String(headers["connection"] ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h.length > 0)
  )
  const out: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value
  }
  return out
}

/** A body as the client got it (OpenSearch gzips when asked to), decoded for the test. */
const decode = (body: Buffer, encoding: string | undefined): Buffer => {
  switch (encoding?.trim().toLowerCase()) {
    case undefined:
    case "":
    case "identity":
      return body
    case "gzip":
    case "x-gzip":
      return zlib.gunzipSync(body)
    case "deflate":
      return zlib.inflateSync(body)
    case "br":
      return zlib.brotliDecompressSync(body)
    default:
      throw new Error(`unsupported content-encoding ${encoding}`)
  }
}

interface Buffered {
  readonly method: string
  /** Path and query, as the client sent it. */
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

interface Hold {
  readonly match: (request: CaughtRequest) => boolean
  readonly resolveCaught: (request: CaughtRequest) => void
  readonly rejectCaught: (error: Error) => void
  /** Set once a request is caught; `res` is the (possibly long gone) client's response. */
  held?: { readonly request: Buffered; readonly res: http.ServerResponse }
  released?: Promise<{ status: number; body: string }>
}

/** Listens on 127.0.0.1 at a random free port in [PORT_MIN, PORT_MAX). */
const listen = async (server: http.Server): Promise<number> => {
  for (let attempt = 1; ; attempt++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN))
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => {
          server.off("listening", onListening)
          reject(e)
        }
        const onListening = () => {
          server.off("error", onError)
          resolve()
        }
        server.once("error", onError)
        server.once("listening", onListening)
        server.listen(port, "127.0.0.1")
      })
      return (server.address() as AddressInfo).port
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if ((code !== "EADDRINUSE" && code !== "EACCES") || attempt >= LISTEN_ATTEMPTS) throw e
    }
  }
}

export const startHoldingProxy = async (upstreamUrl: string): Promise<HoldingProxy> => {
  const upstream = new URL(upstreamUrl)
  if (upstream.protocol !== "http:") throw new Error(`holding proxy: only http upstreams are supported, not ${upstreamUrl}`)
  const basePath = upstream.pathname.replace(/\/+$/, "")
  const basicAuth =
    upstream.username === ""
      ? undefined
      : `Basic ${Buffer.from(`${decodeURIComponent(upstream.username)}:${decodeURIComponent(upstream.password)}`).toString("base64")}`
  // Our own agent, no keep-alive: no stale pooled socket can reset a forwarded request,
  // and `close` can abort whatever is still in flight.
  const agent = new http.Agent({ keepAlive: false })

  const holds: Array<Hold> = []
  const forwardedLog: Array<{ method: string; path: string }> = []
  let closed = false

  /** Sends a buffered request upstream; calls back with the response (or an error) once. */
  const forward = (request: Buffered, onResponse: (error: Error | undefined, res?: http.IncomingMessage) => void) => {
    forwardedLog.push({ method: request.method, path: request.path })
    const headers = endToEnd(request.headers)
    headers["host"] = upstream.host
    if (basicAuth !== undefined && headers["authorization"] === undefined) headers["authorization"] = basicAuth
    const hadBody = request.headers["content-length"] !== undefined || request.headers["transfer-encoding"] !== undefined
    if (request.body.length > 0 || hadBody) headers["content-length"] = String(request.body.length)
    let done = false
    const once = (error: Error | undefined, res?: http.IncomingMessage) => {
      if (done) return
      done = true
      onResponse(error, res)
    }
    const upstreamReq = http.request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port === "" ? 80 : Number(upstream.port),
        method: request.method,
        path: `${basePath}${request.path}`,
        headers,
        agent
      },
      (res) => once(undefined, res)
    )
    upstreamReq.on("error", (e) => once(e))
    upstreamReq.end(request.body)
  }

  /** Streams an upstream answer to the client; a client that is gone is no error. */
  const relay = (res: http.ServerResponse, error: Error | undefined, upstreamRes?: http.IncomingMessage) => {
    if (error !== undefined || upstreamRes === undefined) {
      if (res.destroyed || res.writableEnded) return
      if (res.headersSent) return void res.destroy()
      try {
        res.writeHead(502, { "content-type": "text/plain" })
        res.end(`holding proxy: upstream failed: ${error?.message ?? "no response"}\n`)
      } catch {
        res.destroy()
      }
      return
    }
    if (res.destroyed || res.writableEnded) {
      upstreamRes.resume()
      return
    }
    try {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, {
        ...endToEnd(upstreamRes.headers),
        ...(upstreamRes.headers["content-length"] !== undefined
          ? { "content-length": upstreamRes.headers["content-length"] }
          : {})
      })
    } catch {
      upstreamRes.resume()
      res.destroy()
      return
    }
    // A client that went away mid-answer ends the pipeline with an error: nothing to do.
    pipeline(upstreamRes, res, ignore)
  }

  /** Forwards a caught request on `release()`: the answer goes to the test, and to the client if it still waits. */
  const releaseHeld = (request: Buffered, res: http.ServerResponse) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      forward(request, (error, upstreamRes) => {
        if (error !== undefined || upstreamRes === undefined) {
          relay(res, error)
          return reject(new Error(`holding proxy: releasing ${request.method} ${request.path} failed: ${error?.message ?? "no response"}`))
        }
        const chunks: Array<Buffer> = []
        upstreamRes.on("data", (chunk: Buffer) => chunks.push(chunk))
        upstreamRes.on("error", (e) => reject(new Error(`holding proxy: reading the answer to ${request.method} ${request.path} failed: ${e.message}`)))
        upstreamRes.on("end", () => {
          const body = Buffer.concat(chunks)
          const status = upstreamRes.statusCode ?? 502
          if (!res.destroyed && !res.writableEnded) {
            try {
              const headers = endToEnd(upstreamRes.headers)
              headers["content-length"] = String(body.length)
              res.writeHead(status, upstreamRes.statusMessage, headers)
              res.end(body)
            } catch {
              res.destroy()
            }
          }
          try {
            resolve({ status, body: decode(body, upstreamRes.headers["content-encoding"]).toString("utf8") })
          } catch (e) {
            reject(new Error(`holding proxy: decoding the answer to ${request.method} ${request.path} failed: ${String(e)}`))
          }
        })
      })
    })

  /** The first outstanding hold that matches `request` catches it; a `match` that throws fails its hold. */
  const catchFor = (request: Buffered, res: http.ServerResponse): boolean => {
    const seen: CaughtRequest = { method: request.method, path: request.path, body: request.body.toString("utf8") }
    for (const hold of holds) {
      if (hold.held !== undefined) continue
      let matched: boolean
      try {
        matched = hold.match(seen)
      } catch (e) {
        holds.splice(holds.indexOf(hold), 1)
        hold.rejectCaught(e instanceof Error ? e : new Error(String(e)))
        return catchFor(request, res)
      }
      if (matched) {
        hold.held = { request, res }
        hold.resolveCaught(seen)
        return true
      }
    }
    return false
  }

  const server = http.createServer((req, res) => {
    // A client that disconnects (its timeout fired) must not crash anything.
    req.on("error", ignore)
    res.on("error", ignore)
    const chunks: Array<Buffer> = []
    let complete = false
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      complete = true
      if (closed) return void res.destroy()
      const request: Buffered = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks)
      }
      if (catchFor(request, res)) return
      forward(request, (error, upstreamRes) => relay(res, error, upstreamRes))
    })
    // A body cut short was never sent whole: drop it, as a real server would.
    req.on("close", () => {
      if (!complete) chunks.length = 0
    })
  })
  // Keep the clients' keep-alive sockets open long: a socket closing under a reuse
  // would be a reset of our own making, not the fault under test.
  server.keepAliveTimeout = 60_000
  server.headersTimeout = 65_000
  server.requestTimeout = 0
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (error.code !== "ECONNRESET" && socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n")
    else socket.destroy()
  })

  const port = await listen(server)
  // After `listen`: an error now (none is expected) must not be an unhandled 'error' event.
  server.on("error", (e) => process.stderr.write(`[holding proxy] ${e.message}\n`))

  const holdNext = (match: (request: CaughtRequest) => boolean): HeldRequest => {
    let resolveCaught!: (request: CaughtRequest) => void
    let rejectCaught!: (error: Error) => void
    const caught = new Promise<CaughtRequest>((resolve, reject) => {
      resolveCaught = resolve
      rejectCaught = reject
    })
    // Rejected on `close` when nothing was caught: fine for a test that never awaits it.
    caught.catch(ignore)
    const hold: Hold = { match, resolveCaught, rejectCaught }
    if (closed) rejectCaught(new Error("holding proxy: closed"))
    else holds.push(hold)
    const release = (): Promise<{ status: number; body: string }> => {
      if (hold.released !== undefined) return hold.released
      if (closed) return Promise.reject(new Error("holding proxy: closed; the held request was dropped"))
      const held = hold.held
      if (held === undefined) return Promise.reject(new Error("holding proxy: release() before any matching request was caught"))
      holds.splice(holds.indexOf(hold), 1)
      hold.released = releaseHeld(held.request, held.res)
      return hold.released
    }
    return { caught, release }
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    for (const hold of holds.splice(0)) {
      if (hold.held === undefined) hold.rejectCaught(new Error("holding proxy: closed before a matching request arrived"))
      else hold.held.res.destroy()
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
    agent.destroy()
  }

  return {
    url: `http://127.0.0.1:${port}`,
    holdNext,
    forwarded: () => [...forwardedLog],
    close
  }
}
