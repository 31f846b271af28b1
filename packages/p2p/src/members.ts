import './polyfill.js';
import { publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import type { ClusterConfig } from '@tandem/protocol';

/**
 * The cluster's members as libp2p peers. A member's PeerId is derived from the Ed25519 identity
 * key in the cluster file (an Ed25519 PeerId embeds its public key), so the map needs nothing
 * beyond the cluster file, and a peer cannot claim a member's PeerId without that member's key:
 * Noise proves possession of the key behind the PeerId during the handshake.
 */
export class MemberDirectory {
  private readonly byPeer = new Map<string, number>();
  private readonly byIndex = new Map<number, PeerId>();

  constructor(cluster: ClusterConfig) {
    for (const m of cluster.members) {
      const peerId = peerIdFromPublicKey(publicKeyFromRaw(m.identityKey));
      this.byPeer.set(peerId.toString(), m.index);
      this.byIndex.set(m.index, peerId);
    }
  }

  /** The member index (1..n) of a peer, or null for a stranger. */
  indexOf(peer: PeerId): number | null {
    return this.byPeer.get(peer.toString()) ?? null;
  }

  isMember(peer: PeerId): boolean {
    return this.byPeer.has(peer.toString());
  }

  /** The PeerId of member `index`; throws for an index outside the cluster. */
  peerId(index: number): PeerId {
    const p = this.byIndex.get(index);
    if (p === undefined) throw new RangeError(`no member with index ${index}`);
    return p;
  }

  indices(): number[] {
    return [...this.byIndex.keys()];
  }
}
