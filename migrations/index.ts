import { InitialSchema1732380000000 } from './1732380000000-initial-schema';
import { EventsAndTags1732380100000 } from './1732380100000-events-and-tags';
import { Webhooks1732380200000 } from './1732380200000-webhooks';
import { UploadHeartbeats1732380300000 } from './1732380300000-upload-heartbeats';
import { SafetensorsTwins1732380400000 } from './1732380400000-safetensors-twins';
import { Lineage1732380500000 } from './1732380500000-lineage';
import { Retention1732380600000 } from './1732380600000-retention';
import { Cards1732380700000 } from './1732380700000-cards';
import { CardHtml1732380800000 } from './1732380800000-card-html';
import { ObjectDeletions1732380900000 } from './1732380900000-object-deletions';
import { PinnedBest1732381000000 } from './1732381000000-pinned-best';

/** every migration, in order (the data source runs those not applied yet) */
export const MIGRATIONS = [
  InitialSchema1732380000000,
  EventsAndTags1732380100000,
  Webhooks1732380200000,
  UploadHeartbeats1732380300000,
  SafetensorsTwins1732380400000,
  Lineage1732380500000,
  Retention1732380600000,
  Cards1732380700000,
  CardHtml1732380800000,
  ObjectDeletions1732380900000,
  PinnedBest1732381000000,
];
