// Injected after instrument.js (whose signaling hook it uses) into pages whose join is to be explained step by step: a timeline of
// every RTCPeerConnection's negotiation calls and events, and the first moment each RTP counter of
// getStats moves, into window.__timeline. Like instrument.js it observes and never changes what the
// page does; meshcall (through wasm-bindgen) and the floor both call the prototype's methods, so
// wrapping them sees both alike. Used by `node bench/browser.mjs --only timeline`.
(() => {
  if (window.__timeline) return;
  const now = () => performance.timeOrigin + performance.now();
  const T = (window.__timeline = { events: [], pcs: [], samples: [], longTasks: [] });
  // Main-thread tasks over 50 ms: tells a busy page from a stalled media path.
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) T.longTasks.push({ at: performance.timeOrigin + e.startTime, ms: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* no long task timing here */ }
  const NativePC = window.RTCPeerConnection;
  if (!NativePC) return;
  const ids = new WeakMap();
  const log = (pc, what, detail) => T.events.push({ pc: ids.get(pc) ?? -1, at: now(), what, ...(detail ?? {}) });
  const proto = NativePC.prototype;
  const describe = (args) => {
    const d = args[0];
    if (d && typeof d === 'object') return { type: d.type ?? '(implicit)', ...(d.sdp ? { sdp: summarizeSdp(d.sdp) } : {}) };
    if (d && typeof d === 'string') return { kind: d };
    if (d && d.kind) return { kind: d.kind };
    return {};
  };
  // The m-lines and their directions, which is what a renegotiation changes.
  const summarizeSdp = (sdp) => sdp.split(/\r?\n/).reduce((acc, line) => {
    if (line.startsWith('m=')) acc.push(line.split(' ')[0].slice(2));
    else if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line) && acc.length) acc[acc.length - 1] += `:${line.slice(2)}`;
    return acc;
  }, []).join(' ');
  const wrap = (name) => {
    const native = proto[name];
    if (typeof native !== 'function') return;
    proto[name] = function (...args) {
      const detail = name === 'addTrack' ? { kind: args[0] && args[0].kind } : describe(args);
      log(this, `${name}()`, detail);
      const result = native.apply(this, args);
      if (result && typeof result.then === 'function') {
        result.then(
          (v) => log(this, `${name} done`, v && v.type ? { type: v.type } : undefined),
          (e) => log(this, `${name} failed`, { error: String(e && e.message) }),
        );
      }
      return result;
    };
  };
  for (const m of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription', 'addTrack',
    'addTransceiver', 'restartIce', 'addIceCandidate']) wrap(m);

  // Counters whose first movement tells where media is held up.
  const INBOUND = ['packetsReceived', 'framesReceived', 'framesDecoded', 'keyFramesDecoded', 'pliCount', 'firCount', 'nackCount'];
  const OUTBOUND = ['packetsSent', 'framesEncoded', 'keyFramesEncoded', 'pliCount', 'firCount', 'nackCount'];
  const watchStats = (pc, id) => {
    const seen = {};
    let busy = false;
    const timer = setInterval(async () => {
      if (pc.connectionState === 'closed') { clearInterval(timer); return; }
      // One getStats at a time: a slow one shows as a gap between samples, not as a pile-up.
      if (busy) return;
      busy = true;
      const asked = now();
      let report;
      try { report = await pc.getStats(); } catch { busy = false; return; } finally { busy = false; }
      const t = now();
      const sample = { pc: id, asked, at: t };
      report.forEach((s) => {
        // Frames the local track gave this connection's sender: tells a silent camera from an idle encoder.
        if (s.type === 'media-source' && s.kind === 'video') sample['src.frames'] = s.frames ?? 0;
        if (s.type === 'outbound-rtp' && s.kind === 'audio') sample['audio.out.packets'] = s.packetsSent ?? 0;
        if (s.kind !== 'video' || (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp')) return;
        const fields = s.type === 'inbound-rtp' ? INBOUND : OUTBOUND;
        const dir = s.type === 'inbound-rtp' ? 'in' : 'out';
        sample[`${dir}.frames`] = (s.type === 'inbound-rtp' ? s.framesDecoded : s.framesEncoded) ?? 0;
        sample[`${dir}.packets`] = (s.type === 'inbound-rtp' ? s.packetsReceived : s.packetsSent) ?? 0;
        for (const f of fields) {
          const v = s[f] ?? 0;
          const key = `${dir}.${f}`;
          // Every change of the request and keyframe counters, only the first of the others.
          const every = /pli|fir|keyFrames/.test(f);
          if (v > (seen[key] ?? 0) && (every || seen[key] === undefined || seen[key] === 0)) {
            T.events.push({ pc: id, at: t, what: `${key}`, value: v });
          }
          seen[key] = v;
        }
        if (s.type === 'outbound-rtp' && s.qualityLimitationReason && s.qualityLimitationReason !== 'none' && !seen.limited) {
          seen.limited = true;
          T.events.push({ pc: id, at: t, what: 'out.qualityLimitation', value: s.qualityLimitationReason });
        }
      });
      T.samples.push(sample);
    }, 25);
  };

  // The camera itself: every getUserMedia, and what its video tracks delivered
  // (MediaStreamTrack.stats), sampled like getStats, so a stalled camera shows apart from the
  // connections. deliveredFrames is what counts: totalFrames goes on counting while the camera
  // delivers nothing (total = delivered + discarded + frames dropped before the track).
  T.camera = [];
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = async (constraints) => {
      T.events.push({ pc: -1, at: now(), what: 'getUserMedia()', kind: JSON.stringify(constraints) });
      const stream = await gum(constraints);
      for (const track of stream.getVideoTracks()) {
        const timer = setInterval(() => {
          if (track.readyState === 'ended') { clearInterval(timer); return; }
          const st = track.stats;
          if (st) T.camera.push({ at: now(), total: st.totalFrames, delivered: st.deliveredFrames, discarded: st.discardedFrames });
        }, 25);
      }
      return stream;
    };
  }

  // Signaling messages with their times (KeepAlives left out): what each side sent and heard when.
  const signal = (dir, text) => {
    try {
      const m = JSON.parse(text);
      if (typeof m !== 'object' || m === null) return;
      const top = Object.keys(m)[0];
      const body = m[top];
      const data = body && body.data;
      const kind = top === 'Signal' && data && typeof data === 'object' ? Object.keys(data)[0] : top;
      const peer = top === 'Signal' ? body.sender ?? body.receiver : typeof body === 'string' ? body : undefined;
      T.events.push({ pc: -1, at: now(), what: `ws ${dir} ${kind}`, peer });
    } catch { /* not JSON: not ours */ }
  };
  if (window.__bench) window.__bench.wsListeners.push((dir, data) => typeof data === 'string' && signal(dir, data));

  const Wrapped = window.RTCPeerConnection; // instrument.js's counting wrapper, if it ran first
  const PC = function (...args) {
    const pc = new Wrapped(...args);
    const id = T.pcs.length;
    ids.set(pc, id);
    T.pcs.push({ id, at: now() });
    log(pc, 'created');
    pc.addEventListener('negotiationneeded', () => log(pc, 'negotiationneeded', { signaling: pc.signalingState }));
    pc.addEventListener('signalingstatechange', () => log(pc, `signaling ${pc.signalingState}`));
    pc.addEventListener('iceconnectionstatechange', () => log(pc, `ice ${pc.iceConnectionState}`));
    pc.addEventListener('connectionstatechange', () => log(pc, `connection ${pc.connectionState}`));
    pc.addEventListener('track', (e) => log(pc, 'track', { kind: e.track.kind, streams: e.streams.length }));
    watchStats(pc, id);
    return pc;
  };
  PC.prototype = proto;
  Object.setPrototypeOf(PC, Wrapped);
  window.RTCPeerConnection = PC;
})();
