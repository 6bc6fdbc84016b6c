// An init script for mesh-profile.mjs (--script): counts the calls a page makes into WebRTC and
// how long each blocks it (many wait on the browser's WebRTC threads), into window.__count
// as { name: [calls, ms] }.
(() => {
  const t = (window.__count = {});
  const add = (name, ms) => { const e = (t[name] ??= [0, 0]); e[0]++; e[1] = Math.round((e[1] + ms) * 10) / 10; };
  const wrap = (proto, name, label = name) => {
    const f = proto[name];
    proto[name] = function (...a) { const s = performance.now(); try { return f.apply(this, a); } finally { add(label, performance.now() - s); } };
  };
  wrap(RTCPeerConnection.prototype, 'addTrack');
  wrap(RTCPeerConnection.prototype, 'addTransceiver');
  wrap(RTCPeerConnection.prototype, 'createDataChannel');
  wrap(RTCPeerConnection.prototype, 'getStats');
  wrap(RTCPeerConnection.prototype, 'getTransceivers');
  wrap(RTCPeerConnection.prototype, 'addIceCandidate');
  wrap(RTCPeerConnection.prototype, 'setLocalDescription');
  wrap(RTCPeerConnection.prototype, 'setRemoteDescription');
  wrap(RTCPeerConnection.prototype, 'createOffer');
  wrap(RTCPeerConnection.prototype, 'createAnswer');
  wrap(RTCRtpSender.prototype, 'getParameters');
  wrap(RTCRtpSender.prototype, 'setParameters');
  wrap(RTCDataChannel.prototype, 'send', 'dc.send');
  wrap(WebSocket.prototype, 'send', 'ws.send');
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = new Proxy(PC, { construct(target, args) { const s = performance.now(); try { return Reflect.construct(target, args); } finally { add('new RTCPeerConnection', performance.now() - s); } } });
  const MS = window.MediaStream;
  window.MediaStream = new Proxy(MS, { construct(target, args) { const s = performance.now(); try { return Reflect.construct(target, args); } finally { add('new MediaStream', performance.now() - s); } } });
})();
