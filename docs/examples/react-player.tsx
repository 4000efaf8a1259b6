// A React component around the gateway's player (docs/web-player.md). Type-checked by `npm test`.
import { useEffect, useRef, useState } from 'react';
import { createPlayer, type LiveStatus, type Proto } from 'rtmp-flv-gateway/player';

export function LiveVideo({ stream, proto = 'ws', base }: { stream: string; proto?: Proto; base?: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const [status, setStatus] = useState<LiveStatus | null>(null);
  useEffect(() => {
    if (!video.current) return;
    const player = createPlayer(video.current, { stream, proto, ...(base ? { base } : {}), onStatus: setStatus });
    return () => player.destroy();
  }, [stream, proto, base]);
  return (
    <figure>
      <video ref={video} muted autoPlay playsInline style={{ width: '100%', background: '#000' }} />
      <figcaption data-state={status?.state}>{status?.message ?? 'Loading…'}</figcaption>
    </figure>
  );
}
