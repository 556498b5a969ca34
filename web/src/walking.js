// Walking to a meeting point on the riders' page: which point the rider boards at, and the walk there over
// footways and streets drawn on the map (GET /v1/rider/walk).
//
// An offer that names its pickup meeting point (`pickup_meeting_point`, once the dispatcher chooses among
// candidates) is shown as it is. Until offers carry one, the page shows the nearest active meeting point
// within the area's walking limit of the chosen origin (GET /v1/rider/meeting-points), and nothing when
// the area serves door to door.

import { api } from './api.js';
import { L, pointMarker } from './map.js';

const WALK_STYLE = { color: '#2e8b57', weight: 4, opacity: 0.9, dashArray: '6 6' };

/** The meeting point ({id, name, lat, lon}) a rider going from `origin` boards at for `offer`, or null. */
export async function pickupPoint(offer, origin) {
  if (offer?.pickup_meeting_point) return offer.pickup_meeting_point;
  if (!origin) return null;
  const answer = await api(`/v1/rider/meeting-points?near=${origin.lat},${origin.lon}`);
  if (!answer.ok || answer.body.mode === 'door_to_door' || !answer.body.candidates.length) return null;
  return answer.body.candidates[0].meeting_point;
}

/**
 * Draw the walk from `origin` to the meeting point `point` on `map` and zoom to it: a dashed line and the
 * point's marker labelled `label`. Resolves with {point, metres, remove()} or null when the service has no walk for it.
 */
export async function drawWalk(map, origin, point, label) {
  const answer = await api(`/v1/rider/walk?from=${origin.lat},${origin.lon}&to=${encodeURIComponent(point.id)}`);
  if (!answer.ok) return null;
  const latlngs = answer.body.path.coordinates.map(([lon, lat]) => [lat, lon]);
  const line = L.polyline(latlngs, { ...WALK_STYLE, walk: true }).addTo(map);
  const marker = pointMarker(map, point, label, '#f1c40f');
  map.fitBounds(line.getBounds().pad(0.6), { maxZoom: 17 });
  return {
    point, metres: answer.body.metres,
    remove() {
      line.remove();
      marker.remove();
    },
  };
}
