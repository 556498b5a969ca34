// The base map: no tiles (nothing is fetched from the internet); the service area's outline and our own
// road network (GET /map/area, GET /map/roads) drawn as vector layers with Leaflet, circle markers only
// (so no marker images are needed).

import L from 'leaflet';
import { t } from './i18n.js';

const ROAD_STYLE = {
  main: { color: '#8a5a00', weight: 3 },
  local: { color: '#6b6b6b', weight: 2 },
  street: { color: '#9a9a9a', weight: 1 },
};

/**
 * A Leaflet map in `element` showing the service area and its roads. Resolves with the map once the
 * base layers are drawn; `element` gets role="region" and a label for screen readers.
 */
export async function baseMap(element) {
  element.setAttribute('role', 'region');
  element.setAttribute('aria-label', t('map.label'));
  const map = L.map(element, { preferCanvas: true, zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(t('map.attribution'));
  const [area, roads] = await Promise.all([fetch('/map/area').then((r) => r.json()),
    fetch('/map/roads').then((r) => r.json())]);
  L.geoJSON(area, { style: { color: '#1d5fa8', weight: 2, fillColor: '#e8f0fa', fillOpacity: 0.6 },
    interactive: false }).addTo(map);
  L.geoJSON(roads, { style: (f) => ROAD_STYLE[f.properties.class] ?? ROAD_STYLE.street, interactive: false })
    .addTo(map);
  const [west, south, east, north] = area.bbox;
  map.fitBounds([[south, west], [north, east]]);
  element.leafletMap = map; // for tests and the browser console
  element.dataset.ready = 'true';
  return map;
}

/** A bus marker (a filled circle with a label) at `position` ({lat, lon}). */
export function busMarker(map, position, label, color = '#c0392b') {
  return L.circleMarker([position.lat, position.lon], {
    radius: 9, color: '#ffffff', weight: 2, fillColor: color, fillOpacity: 1,
  }).bindTooltip(label, { permanent: true, direction: 'right', className: 'bus-label' }).addTo(map);
}

/** A small place marker (origin, destination, stop). */
export function pointMarker(map, position, label, color) {
  return L.circleMarker([position.lat, position.lon], {
    radius: 7, color: '#222222', weight: 1, fillColor: color, fillOpacity: 0.95,
  }).bindTooltip(label).addTo(map);
}

/** A GeoJSON LineString ([lon, lat] pairs) drawn as a route line; null without geometry. */
export function routeLine(map, geometry, color = '#1d5fa8') {
  if (!geometry || !geometry.coordinates || geometry.coordinates.length < 2) return null;
  const latlngs = geometry.coordinates.map(([lon, lat]) => [lat, lon]);
  return L.polyline(latlngs, { color, weight: 5, opacity: 0.8 }).addTo(map);
}

export { L };
