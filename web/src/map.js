// The base map: our own vector tiles (GET /map/tiles/{z}/{x}/{y}.pbf, made from the region's OSM extract by
// routing/basemap.py) drawn on canvas tiles in Leaflet — land use, water, buildings, roads, railways, and
// labels for places, streets and rivers in the system's sans-serif font (no glyph or tile server: nothing
// is fetched from the internet). The service area (GET /map/area) is outlined and everything outside it
// shaded. Markers are circles only (so no marker images are needed).

import Pbf from 'pbf';
import { VectorTile } from '@mapbox/vector-tile';
import L from 'leaflet';
import { t } from './i18n.js';

const MIN_ZOOM = 8;
const MAX_ZOOM = 18; // routing/basemap.py MAX_ZOOM
const FONT = '"DejaVu Sans", "Helvetica Neue", Arial, sans-serif';
const BACKGROUND = '#f2efe9';
const LANDUSE = {
  forest: '#c8dfb8', grass: '#dcebc8', farmland: '#eef0d5', residential: '#e4e0db', industrial: '#ebdbe8',
  park: '#cdebc0', rock: '#e2ddd7',
};
const WATER = '#a9cfe0';
const WATERWAY_WIDTH = { river: 3, canal: 2.5, stream: 1.2, ditch: 0.8, drain: 0.8 };
// Roads, drawn from the least to the most important: fill colour, width at zoom 14, casing colour.
const ROADS = [
  ['path', '#9a7b6b', 0.8, null], ['service', '#ffffff', 1.5, '#c4bcb4'], ['minor', '#ffffff', 2.6, '#bfb7ae'],
  ['tertiary', '#ffffff', 3.4, '#b3a99f'], ['secondary', '#f7f4b4', 4, '#b5ac6c'],
  ['primary', '#fcd8a0', 4.6, '#c49a5a'], ['trunk', '#f9b59c', 5, '#c07f68'], ['motorway', '#e892a2', 5.4, '#b5606f'],
];
const PLACE_FONT = { city: [18, 700], town: [16, 700], village: [14, 700], suburb: [13, 600], hamlet: [12, 600] };

/** How much wider than at zoom 14 lines are drawn at zoom `z`. */
function widthScale(z) {
  return Math.min(3.2, Math.max(0.35, 2 ** ((z - 14) * 0.65)));
}

/** The rings (or line parts) of a feature in canvas pixels. */
function geometry(feature, scale) {
  return feature.loadGeometry().map((ring) => ring.map((p) => [p.x * scale, p.y * scale]));
}

function tracePath(ctx, rings, close) {
  ctx.beginPath();
  for (const ring of rings) {
    ring.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (close) ctx.closePath();
  }
}

function features(tile, name, filter = () => true) {
  const layer = tile.layers[name];
  const out = [];
  if (!layer) return out;
  for (let i = 0; i < layer.length; i += 1) {
    const f = layer.feature(i);
    if (filter(f)) out.push(f);
  }
  return out;
}

function fillAreas(ctx, list, scale, colour, stroke) {
  for (const f of list) {
    tracePath(ctx, geometry(f, scale), true);
    ctx.fillStyle = typeof colour === 'function' ? colour(f) : colour;
    ctx.fill('evenodd');
    if (stroke) {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = 0.6;
      ctx.stroke();
    }
  }
}

function strokeLines(ctx, list, scale, colour, width, dash = []) {
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.setLineDash(dash);
  for (const f of list) {
    tracePath(ctx, geometry(f, scale), false);
    ctx.strokeStyle = colour;
    ctx.lineWidth = typeof width === 'function' ? width(f) : width;
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** Whether box `b` ([x0, y0, x1, y1]) overlaps any of `boxes`. */
function collides(b, boxes) {
  return boxes.some((o) => b[0] < o[2] && b[2] > o[0] && b[1] < o[3] && b[3] > o[1]);
}

/** Draw `text` centred on a point, with a white halo; false (nothing drawn) where it would overlap. */
function pointLabel(ctx, text, x, y, px, weight, boxes, colour = '#222') {
  ctx.font = `${weight} ${px}px ${FONT}`;
  const w = ctx.measureText(text).width;
  const box = [x - w / 2 - 2, y - px / 2 - 2, x + w / 2 + 2, y + px / 2 + 2];
  if (collides(box, boxes)) return false;
  boxes.push(box);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(255,255,255,0.9)';
  ctx.strokeText(text, x, y);
  ctx.fillStyle = colour;
  ctx.fillText(text, x, y);
  return true;
}

/** Draw `text` along a line (each letter turned with the line), kept `margin` px inside the tile so that no
 * label is cut at a tile edge; false where it does not fit, bends too sharply or would overlap. */
function lineLabel(ctx, text, line, size, px, boxes, style) {
  const margin = 4;
  ctx.font = `${style.weight || 400} ${px}px ${FONT}`;
  const widths = [...text].map((c) => ctx.measureText(c).width);
  const total = widths.reduce((a, b) => a + b, 0);
  const cum = [0];
  for (let i = 1; i < line.length; i += 1) {
    cum.push(cum[i - 1] + Math.hypot(line[i][0] - line[i - 1][0], line[i][1] - line[i - 1][1]));
  }
  const length = cum[cum.length - 1];
  if (length < total + 16) return false;
  const at = (d) => {
    let i = 1;
    while (i < line.length - 1 && cum[i] < d) i += 1;
    const [x0, y0] = line[i - 1];
    const [x1, y1] = line[i];
    const f = (d - cum[i - 1]) / Math.max(cum[i] - cum[i - 1], 1e-9);
    return [x0 + f * (x1 - x0), y0 + f * (y1 - y0), Math.atan2(y1 - y0, x1 - x0)];
  };
  const start = (length - total) / 2;
  const [ax] = at(start);
  const [bx] = at(start + total);
  const reverse = bx < ax; // read left to right
  const glyphs = [];
  let d = start;
  for (const w of widths) {
    const [x, y, angle] = at(reverse ? length - (d + w / 2) : d + w / 2);
    glyphs.push([x, y, reverse ? angle + Math.PI : angle]);
    d += w;
  }
  for (let i = 1; i < glyphs.length; i += 1) {
    let turn = Math.abs(glyphs[i][2] - glyphs[i - 1][2]);
    if (turn > Math.PI) turn = 2 * Math.PI - turn;
    if (turn > 0.5) return false;
  }
  const r = px * 0.6;
  const glyphBoxes = glyphs.map(([x, y]) => [x - r, y - r, x + r, y + r]);
  if (glyphBoxes.some((b) => b[0] < margin || b[1] < margin || b[2] > size - margin || b[3] > size - margin)) return false;
  if (glyphBoxes.some((b) => collides(b, boxes))) return false;
  boxes.push(...glyphBoxes);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  [...text].forEach((c, i) => {
    const [x, y, angle] = glyphs[i];
    ctx.save();
    ctx.translate(x, y);
    ctx.rotate(angle);
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,0.85)';
    ctx.strokeText(c, 0, 0);
    ctx.fillStyle = style.colour;
    ctx.fillText(c, 0, 0);
    ctx.restore();
  });
  return true;
}

/** Draw one decoded vector tile onto a canvas `size` px square (in CSS pixels) at zoom `z`. */
export function drawTile(ctx, tile, z, size) {
  const extent = (layer) => (tile.layers[layer] ? tile.layers[layer].extent : 4096);
  const scale = size / extent('road');
  const k = widthScale(z);
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, size, size);
  fillAreas(ctx, features(tile, 'landuse'), scale, (f) => LANDUSE[f.properties.class] || LANDUSE.grass);
  fillAreas(ctx, features(tile, 'water'), scale, WATER);
  strokeLines(ctx, features(tile, 'waterway'), scale, WATER, (f) => (WATERWAY_WIDTH[f.properties.class] || 1) * k);
  fillAreas(ctx, features(tile, 'building'), scale, '#d9d0c9', z >= 15 ? '#c2b5aa' : null);
  strokeLines(ctx, features(tile, 'rail'), scale, '#8f8f8f', 1.6 * Math.max(k, 0.7), [6, 4]);
  const roads = features(tile, 'road');
  const byClass = (cls) => roads.filter((f) => f.properties.class === cls);
  for (const [cls, , width, casing] of ROADS) {
    if (casing) strokeLines(ctx, byClass(cls), scale, casing, width * k + 1.6);
  }
  for (const [cls, colour, width] of ROADS) {
    strokeLines(ctx, byClass(cls), scale, colour, width * k, cls === 'path' ? [3, 3] : []);
  }
  // Labels: places first (most important first), then streets and rivers where they fit.
  const boxes = [];
  const places = features(tile, 'place').sort((a, b) => a.properties.rank - b.properties.rank);
  for (const f of places) {
    const [px, weight] = PLACE_FONT[f.properties.class] || [11, 400];
    const [x, y] = geometry(f, scale)[0][0];
    pointLabel(ctx, f.properties.name, x, y, px + Math.max(0, z - 14), weight, boxes);
  }
  if (z >= 14) {
    const labelled = new Set();
    const named = [...roads].filter((f) => f.properties.name && f.properties.class !== 'path')
      .sort((a, b) => ROADS.findIndex((r) => r[0] === b.properties.class) - ROADS.findIndex((r) => r[0] === a.properties.class));
    for (const f of named) {
      if (labelled.has(f.properties.name)) continue;
      const px = z >= 16 ? 12 : 11;
      if (geometry(f, scale).some((line) => lineLabel(ctx, f.properties.name, line, size, px, boxes, { colour: '#333' }))) {
        labelled.add(f.properties.name);
      }
    }
  }
  if (z >= 12) {
    for (const f of features(tile, 'waterway', (w) => w.properties.name && ['river', 'canal'].includes(w.properties.class))) {
      geometry(f, scale).some((line) => lineLabel(ctx, f.properties.name, line, size, 11, boxes, { colour: '#2f6f95', weight: 'italic 400' }));
    }
  }
}

/** A Leaflet layer of the basemap's vector tiles, each drawn on a canvas. A drawn tile's canvas carries the
 * tile's layer names in `data-layers` (tests read them). */
export const BasemapLayer = L.GridLayer.extend({
  createTile(coords, done) {
    const canvas = L.DomUtil.create('canvas', 'leaflet-tile');
    const size = this.getTileSize().x;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = size * ratio;
    canvas.height = size * ratio;
    fetch(`/map/tiles/${coords.z}/${coords.x}/${coords.y}.pbf`)
      .then((answer) => {
        if (!answer.ok) throw new Error(`tile ${coords.z}/${coords.x}/${coords.y}: ${answer.status}`);
        return answer.arrayBuffer();
      })
      .then((buffer) => {
        const tile = new VectorTile(new Pbf(buffer));
        const ctx = canvas.getContext('2d');
        ctx.scale(ratio, ratio);
        drawTile(ctx, tile, coords.z, size);
        canvas.dataset.layers = Object.keys(tile.layers).sort().join(' ');
        done(null, canvas);
      })
      .catch((error) => done(error, canvas));
    return canvas;
  },
});

/** The world with the service area cut out (GeoJSON Polygon or MultiPolygon), as Leaflet rings. */
function outsideRings(area) {
  const polygons = area.geometry.type === 'MultiPolygon' ? area.geometry.coordinates : [area.geometry.coordinates];
  const world = [[-89, -179], [-89, 179], [89, 179], [89, -179]];
  return [world, ...polygons.map((polygon) => polygon[0].map(([lon, lat]) => [lat, lon]))];
}

/**
 * A Leaflet map in `element` showing the basemap and the service area. Resolves with the map once the
 * area is drawn; `element` gets role="region" and a label for screen readers.
 */
export async function baseMap(element) {
  element.setAttribute('role', 'region');
  element.setAttribute('aria-label', t('map.label'));
  element.style.background = BACKGROUND;
  const map = L.map(element, { preferCanvas: true, zoomSnap: 0.25, minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(t('map.attribution'));
  new BasemapLayer({ minZoom: MIN_ZOOM, maxZoom: MAX_ZOOM, keepBuffer: 1 }).addTo(map);
  const area = await fetch('/map/area').then((r) => r.json());
  L.polygon(outsideRings(area), {
    stroke: false, fillColor: '#59606b', fillOpacity: 0.22, interactive: false,
  }).addTo(map);
  L.geoJSON(area, { style: { color: '#1d5fa8', weight: 2, fill: false }, interactive: false }).addTo(map);
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
