// An init script for mesh-profile.mjs (--script): counts the calls a page makes into WebRTC and
// how long each blocks it (many wait on the browser's WebRTC threads), into window.__count
// as { name: [calls, ms] }.
(() => {
  const t = (window.__count = {});
  const add = (name, ms) => { const e = (t[name] ??= [0, 0]); e[0]++; e[1] = Math.round((e[1] + ms) * 10) / 10; };
  const timed = (label, call) => { const s = performance.now(); try { return call(); } finally { add(label, performance.now() - s); } };
  const wrap = (proto, names, prefix = '') => {
    for (const name of names) {
      const f = proto[name];
      proto[name] = function (...a) { return timed(prefix + name, () => f.apply(this, a)); };
    }
  };
  wrap(RTCPeerConnection.prototype, ['addTrack', 'addTransceiver', 'createDataChannel', 'getStats', 'getTransceivers',
    'addIceCandidate', 'setLocalDescription', 'setRemoteDescription', 'createOffer', 'createAnswer']);
  wrap(RTCRtpSender.prototype, ['getParameters', 'setParameters']);
  wrap(RTCDataChannel.prototype, ['send'], 'dc.');
  wrap(WebSocket.prototype, ['send'], 'ws.');
  for (const name of ['RTCPeerConnection', 'MediaStream']) {
    window[name] = new Proxy(window[name], { construct: (target, args) => timed(`new ${name}`, () => Reflect.construct(target, args)) });
  }
})();
