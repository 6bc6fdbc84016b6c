// Injected before any page script (meshcall's or the floor's): it observes, never changes, what the
// page does. It records the Join click, the first frame each remote <video> shows, the signaling
// messages and the RTCPeerConnections built, into window.__bench. Both pages get the same cost.
(() => {
  if (window.__bench) return;
  const now = () => performance.timeOrigin + performance.now();
  const kinds = (bag, text) => {
    let key = 'other';
    try {
      const m = JSON.parse(text);
      if (typeof m === 'string') key = m;
      else if (m && typeof m === 'object') {
        const top = Object.keys(m)[0];
        const data = m[top] && m[top].data;
        key = top === 'Signal' && data && typeof data === 'object' ? `Signal.${Object.keys(data)[0]}` : top;
      }
    } catch { key = 'binary-or-bad'; }
    bag[key] = (bag[key] || 0) + 1;
  };
  const B = (window.__bench = {
    joinAt: null, socketAt: null, idAt: null, sockets: 0, pcs: 0, sent: 0, received: 0, keepAlives: 0,
    sentKinds: {}, receivedKinds: {}, faces: [], connectedAt: [], attached: [], decoded: [],
    // Every connection built, for getStats (the uplink benchmark).
    peerConnections: [],
    // Other init scripts (timeline.js) hear every signaling message here: (dir 'in' | 'out', data).
    wsListeners: [],
  });
  const tell = (dir, data) => { for (const f of B.wsListeners) f(dir, data); };

  document.addEventListener('click', (e) => {
    if (B.joinAt === null && e.target && e.target.closest && e.target.closest('[data-testid=join]')) {
      B.joinAt = performance.timeOrigin + e.timeStamp;
    }
  }, true);

  const NativeWS = window.WebSocket;
  const WS = function (url, protocols) {
    const ws = protocols === undefined ? new NativeWS(url) : new NativeWS(url, protocols);
    B.sockets++;
    if (B.socketAt === null) B.socketAt = now();
    ws.addEventListener('message', (e) => {
      tell('in', e.data);
      B.received++;
      kinds(B.receivedKinds, e.data);
      if (B.idAt === null && typeof e.data === 'string' && e.data.startsWith('{"IdAssigned"')) B.idAt = now();
    });
    return ws;
  };
  WS.prototype = NativeWS.prototype;
  Object.setPrototypeOf(WS, NativeWS);
  window.WebSocket = WS;
  const nativeSend = NativeWS.prototype.send;
  NativeWS.prototype.send = function (data) {
    tell('out', data);
    if (typeof data === 'string' && data.replace(/\s/g, '') === '"KeepAlive"') B.keepAlives++;
    else { B.sent++; kinds(B.sentKinds, data); }
    return nativeSend.call(this, data);
  };

  const NativePC = window.RTCPeerConnection;
  if (NativePC) {
    const PC = function (...args) {
      B.pcs++;
      const pc = new NativePC(...args);
      B.peerConnections.push(pc);
      // When each connection first reaches "connected" (ICE + DTLS done): tells network setup
      // apart from the time media then takes to show.
      pc.addEventListener('connectionstatechange', () => {
        if (pc.connectionState === 'connected' && !pc.__benchConnected) {
          pc.__benchConnected = true;
          B.connectedAt.push(now());
        }
      });
      return pc;
    };
    PC.prototype = NativePC.prototype;
    Object.setPrototypeOf(PC, NativePC);
    window.RTCPeerConnection = PC;
  }

  // The first frame each remote video presents (requestVideoFrameCallback), per tile.
  const waiters = [];
  const tiles = () => [...document.querySelectorAll('[data-testid=peer-tile]')];
  const check = () => {
    const all = tiles();
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      const shown = all.filter((t) => { const v = t.querySelector('video'); return v && v.__firstFrameAt; });
      if (shown.length >= w.n && all.length === w.n) {
        waiters.splice(i, 1);
        w.resolve(Math.max(...shown.map((t) => t.querySelector('video').__firstFrameAt)));
      }
    }
  };
  const hook = (video) => {
    if (video.__benchHooked || !video.closest('[data-testid=peer-tile]')) return;
    video.__benchHooked = true;
    const first = () => {
      if (video.__firstFrameAt) return;
      video.__firstFrameAt = now();
      const tile = video.closest('[data-testid=peer-tile]');
      B.faces.push({ peer: tile && tile.dataset.peer, at: video.__firstFrameAt });
      check();
    };
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(first);
    else video.addEventListener('loadeddata', first, { once: true });
    // Stream attached (loadstart follows setting srcObject) and first frame decoded: with the
    // presented time above they tell "not yet arrived" from "arrived but not shown".
    const mark = (list) => () => {
      const tile = video.closest('[data-testid=peer-tile]');
      list.push({ peer: tile && tile.dataset.peer, at: now() });
    };
    video.addEventListener('loadstart', mark(B.attached), { once: true });
    video.addEventListener('loadeddata', mark(B.decoded), { once: true });
  };
  const observe = () => {
    new MutationObserver(() => {
      document.querySelectorAll('[data-testid=peer-tile] video').forEach(hook);
      check();
    }).observe(document.documentElement, { childList: true, subtree: true });
  };
  if (document.documentElement) observe();
  else document.addEventListener('DOMContentLoaded', observe);

  // Resolves with the time the page shows n remote faces (n tiles, each with a presented frame).
  B.facesShown = (n) => new Promise((resolve) => { waiters.push({ n, resolve }); check(); });
})();
