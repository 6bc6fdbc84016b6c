// The floor page's whole logic: the matchbox exchange as matchbox peers do it. The peer already in
// the room offers when it hears NewPeer; the newcomer answers; candidates trickle as
// {"IceCandidate":"<RTCIceCandidateInit JSON>"}. Same media (getUserMedia audio+video, opened in the
// lobby) and the same negotiated data channel as meshcall, so the SDP carries the same sections.
// Query: ?room=<name>&signaling=<ws base URL> (default: this origin's /ws/). At Join the preview
// <video> itself moves into the self tile, as meshcall's does (the least work: nothing reloads).
// Two knobs for the measurements in docs/join-timeline.md, never used by the benchmarks:
// &preview=hide hides the lobby and plays the stream in a second <video> (what this page did
// before; it stalls a shared fake camera), &source=canvas sends a drawn track instead of the camera.
'use strict';
(async () => {
  const params = new URLSearchParams(location.search);
  const room = params.get('room') || 'floor';
  const base = params.get('signaling') || `ws://${location.host}/ws/`;
  const $ = (id) => document.querySelector(`[data-testid=${id}]`);
  let stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: params.get('source') !== 'canvas' });
  if (params.get('source') === 'canvas') {
    // A drawn video track instead of the camera, to tell the capture device apart.
    const c = Object.assign(document.createElement('canvas'), { width: 160, height: 120 });
    const g = c.getContext('2d');
    let f = 0;
    setInterval(() => { g.fillStyle = `hsl(${(f += 7) % 360} 80% 50%)`; g.fillRect(0, 0, 160, 120); }, 66);
    stream = new MediaStream([...stream.getAudioTracks(), ...c.captureStream(15).getVideoTracks()]);
  }
  $('preview').srcObject = stream;
  $('join').disabled = false;
  $('join').addEventListener('click', () => join(stream), { once: true });

  function join(stream) {
    if (params.get('preview') === 'hide') $('self-tile').querySelector('video').srcObject = stream;
    else $('self-tile').replaceChildren($('preview'));
    document.getElementById('lobby').hidden = true;
    document.getElementById('call').hidden = false;
    const peers = new Map();
    const ws = new WebSocket(base + room);
    const send = (receiver, data) => ws.send(JSON.stringify({ Signal: { receiver, data } }));
    const keepAlive = setInterval(() => ws.readyState === 1 && ws.send('"KeepAlive"'), 10000);
    ws.addEventListener('close', () => clearInterval(keepAlive));

    function peer(id) {
      let p = peers.get(id);
      if (p) return p;
      const pc = new RTCPeerConnection({ iceServers: [] });
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      pc.createDataChannel('meshcall', { negotiated: true, id: 0 });
      const tile = document.createElement('div');
      tile.dataset.testid = 'peer-tile';
      tile.dataset.peer = id;
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      tile.append(video);
      document.getElementById('tiles').append(tile);
      pc.onicecandidate = (e) => e.candidate && send(id, { IceCandidate: JSON.stringify(e.candidate) });
      pc.ontrack = (e) => { if (video.srcObject !== e.streams[0]) video.srcObject = e.streams[0]; };
      p = { pc, tile, pending: [] };
      peers.set(id, p);
      $('peer-count').textContent = String(peers.size);
      return p;
    }
    async function remote(p, desc) {
      await p.pc.setRemoteDescription(desc);
      for (const c of p.pending.splice(0)) await p.pc.addIceCandidate(c);
    }
    async function handle(msg) {
      if (msg.NewPeer) {
        const { pc } = peer(msg.NewPeer);
        await pc.setLocalDescription(await pc.createOffer());
        send(msg.NewPeer, { Offer: pc.localDescription.sdp });
      } else if (msg.Signal) {
        const { sender, data } = msg.Signal;
        const p = peer(sender);
        if (data.Offer) {
          await remote(p, { type: 'offer', sdp: data.Offer });
          await p.pc.setLocalDescription(await p.pc.createAnswer());
          send(sender, { Answer: p.pc.localDescription.sdp });
        } else if (data.Answer) {
          await remote(p, { type: 'answer', sdp: data.Answer });
        } else if (data.IceCandidate) {
          const c = JSON.parse(data.IceCandidate);
          if (p.pc.remoteDescription) await p.pc.addIceCandidate(c);
          else p.pending.push(c);
        }
      } else if (msg.PeerLeft) {
        const p = peers.get(msg.PeerLeft);
        if (p) {
          p.pc.close();
          p.tile.remove();
          peers.delete(msg.PeerLeft);
          $('peer-count').textContent = String(peers.size);
        }
      }
    }
    // One message at a time, in order: a candidate never overtakes the description it belongs to.
    let chain = Promise.resolve();
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(e.data);
      chain = chain.then(() => handle(msg)).catch((err) => console.error('floor:', err));
    });
  }
})();
