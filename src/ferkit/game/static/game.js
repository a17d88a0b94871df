// Best Actor: the page. Two ways to play (GET /api/vision says which the server offers):
//  - browser: detector and model run here on onnxruntime-web (faces.mjs); camera frames stay on the
//    device, and each round's claim carries only its best few face pictures for the server to re-score;
//  - server: camera frames go to the server over the WebSocket as JPEG, and the server scores them.
// Every text that came from a player or the server is set with textContent, never parsed as HTML.

import {
  canRunLocally,
  claimFrame,
  frameReply,
  loadLocalRecognizer,
  RoundScorer,
  rgbOfCanvas,
  verificationPicture,
} from "./local_play.mjs";
import { followedMinSize } from "./faces.mjs";

let expressions = []; // the loaded model's class names, from the server (/api/vision): never spelled here
let vision = null; // GET /api/vision: the Recognizer's constants, the model's URL, judge curves, rules
let recognizer = null; // the page's own Recognizer (browser inference), or null (server inference)
let frameWidth = 320; // frames are analysed (or sent) this wide: vision.capture_width
// errors the server sends instead of a frame's reply (play.py's protocol): each one frees a slot
const PER_FRAME_ERRORS = new Set(["bad_frame", "frame_too_large", "frame_too_complex", "busy"]);
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let stream = null;
let socket = null;
let frameTimer = null;
let inFlight = 0;
let closingError = null;
let currentTarget = null;
let leaderboard = null;
let refusals = []; // this game's refused claims, shown again on the results screen
const waiters = new Map(); // message type -> {resolve, reject}
let localLoop = null; // the page's own analysis loop (browser inference): {running}
let capture = null; // the round the page is scoring itself: scorer, frames counted, best pictures
let pendingClaim = null; // the claim sent for the current round, until its result arrives
let inferenceReady = null; // settles once the page knows whether it runs the model itself
const CLAIM_ERRORS = new Set(["bad_claim", "bad_round", "no_game"]); // a claim that gets no round reply

function show(screen) {
  for (const id of ["start", "stage", "results"]) $(id).hidden = id !== screen;
  document.body.dataset.screen = screen;
}

function say(element, text, reason = "") {
  element.textContent = text;
  element.hidden = !text;
  element.dataset.reason = reason;
}

// ---- leaderboard ----------------------------------------------------------------------------
function fillTable(table, rows) {
  const body = table.tBodies[0];
  body.replaceChildren();
  if (!rows.length) {
    const tr = body.insertRow();
    const td = tr.insertCell();
    td.colSpan = 3;
    td.textContent = "No games yet: be the first.";
    return;
  }
  rows.forEach(([player, score], i) => {
    const tr = body.insertRow();
    for (const value of [i + 1, player, score]) tr.insertCell().textContent = String(value);
  });
}

function fillExpressionBoard() {
  const target = $("board-expression").value;
  const rows = (leaderboard?.by_expression?.[target] || []).map((r) => [r.player, r.score]);
  fillTable($("board-expression-table"), rows);
}

async function loadLeaderboard() {
  try {
    const response = await fetch("/api/leaderboard");
    leaderboard = await response.json();
  } catch {
    leaderboard = { games: [], by_expression: {} };
  }
  // only games scored by this server's model and rule are ranked together
  $("board-judge").textContent = leaderboard.judge ? `Games judged by ${leaderboard.judge}` : "";
  // ranked by points per round, so games of any length compare fairly
  fillTable($("board-games"), leaderboard.games.map((g) => [g.player, `${g.per_round} per round (${g.total} in ${g.rounds})`]));
  fillExpressionBoard();
  document.body.dataset.leaderboard = "loaded";
}

// ---- camera ---------------------------------------------------------------------------------
async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw { reason: "no_camera_api", message: "This browser gives the page no camera. Open it over https or on localhost in a recent browser." };
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (e) {
    if (e.name === "NotAllowedError" || e.name === "SecurityError") {
      throw { reason: "denied", message: "Camera permission denied. Allow the camera for this page, then press Play again." };
    }
    if (e.name === "NotFoundError" || e.name === "OverconstrainedError") {
      throw { reason: "no_camera", message: "No camera found. Connect a camera, then press Play again." };
    }
    if (e.name === "NotReadableError") {
      throw { reason: "busy", message: "The camera is in use by another app. Close it, then press Play again." };
    }
    throw { reason: "camera_error", message: `The camera did not start (${e.name}). Press Play to try again.` };
  }
}

// ---- the socket -----------------------------------------------------------------------------
function connect() {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/play");
    socket.binaryType = "arraybuffer";
    socket.onopen = () => resolve();
    socket.onerror = () => reject({ reason: "server", message: "Cannot reach the game server." });
    socket.onclose = () => {
      // a full server says why in an error message just before it closes the socket
      const message = closingError ? closingError.message : "Lost the connection to the game server.";
      pendingClaim = null;
      for (const { reject: fail } of waiters.values()) fail({ reason: "server", message });
      waiters.clear();
      stopFrames();
    };
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
  });
}

function send(message) {
  socket.send(JSON.stringify(message));
}

function nextMessage(type) {
  return new Promise((resolve, reject) => waiters.set(type, { resolve, reject }));
}

function onMessage(message) {
  if (message.type === "frame") {
    inFlight = Math.max(0, inFlight - 1);
    drawFrame(message);
  } else if (message.type === "error") {
    if (message.code === "server_full") closingError = message;
    if (message.code === "flood") inFlight = 0; // dropped frames get no reply of their own
    else if (PER_FRAME_ERRORS.has(message.code)) inFlight = Math.max(0, inFlight - 1);
    say($("frame-message"), message.message, message.code);
    if (message.code === "claim_refused") refusals.push(message.message);
    // every analysis slot was taken: the server asks for the claim again in a moment
    if (message.code === "busy" && pendingClaim) setTimeout(() => pendingClaim && send(pendingClaim), 500);
    const round = waiters.get("round");
    if (CLAIM_ERRORS.has(message.code) && round && localLoop) {
      waiters.delete("round");
      round.reject({ reason: message.code, message: message.message });
    }
  }
  if (message.type === "round") pendingClaim = null;
  const waiter = waiters.get(message.type);
  if (waiter) {
    waiters.delete(message.type);
    waiter.resolve(message);
  }
}

// ---- frames out, faces in -------------------------------------------------------------------
function startFrames(fps) {
  const video = $("video");
  const grab = $("grab");
  stopFrames();
  frameTimer = setInterval(() => {
    if (!socket || socket.readyState !== WebSocket.OPEN || inFlight >= 2 || video.readyState < 2) return;
    grab.width = frameWidth;
    grab.height = Math.round((frameWidth * video.videoHeight) / video.videoWidth) || 240;
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    inFlight += 1;
    grab.toBlob((blob) => {
      if (blob && socket.readyState === WebSocket.OPEN) socket.send(blob);
      else inFlight = Math.max(0, inFlight - 1);
    }, "image/jpeg", 0.8);
  }, 1000 / fps);
}

function stopFrames() {
  if (frameTimer) clearInterval(frameTimer);
  frameTimer = null;
  inFlight = 0;
  if (localLoop) localLoop.running = false;
  localLoop = null;
}

// ---- frames analysed in the page (browser inference) ------------------------------------------
function startLocalFrames(fps) {
  stopFrames();
  const loop = { running: true };
  localLoop = loop;
  const video = $("video");
  const grab = $("grab");
  let followed = [], detections = 0; // as the server follows a stream (play.py): the last frame's faces
  (async () => {
    while (loop.running) {
      const started = performance.now();
      if (video.readyState >= 2) {
        grab.width = frameWidth;
        grab.height = Math.round((frameWidth * video.videoHeight) / video.videoWidth) || 240;
        grab.getContext("2d", { willReadFrequently: true }).drawImage(video, 0, 0, grab.width, grab.height);
        const rgb = rgbOfCanvas(grab);
        const minSize = followedMinSize(followed, detections++, vision.following);
        const analysis = await recognizer.analyse(rgb, vision.max_faces, minSize);
        if (!loop.running) break;
        followed = analysis.faces.map((face) => face.box);
        const frame = frameReply(analysis, rgb, vision.status_messages);
        if (capture && !capture.done) scoreLocally(capture, frame, rgb);
        drawFrame(frame);
      }
      await sleep(Math.max(0, 1000 / fps - (performance.now() - started)));
    }
  })();
}

// rules.py's round, played in the page: the clock runs only while exactly one face is in view
function scoreLocally(round, frame, rgb) {
  if (frame.status === "ok") {
    const face = frame.faces[0];
    const probability = face.probabilities[round.scorer.target] || 0;
    round.recent.push(verificationPicture(rgb, face.box, vision.verification.margin));
    if (round.recent.length > round.scorer.hold) round.recent.shift();
    if (round.scorer.add(probability, face.label === round.scorer.target)) round.best = [...round.recent];
    round.valid += 1;
    frame.target_probability = probability;
    frame.target_score = round.scorer.scoreOf(probability);
  }
  frame.progress = round.valid / round.need;
  if (round.valid >= round.need) {
    round.done = true;
    round.resolve();
  }
}

async function captureLocally(index, target, game) {
  await new Promise((resolve) => {
    capture = { scorer: new RoundScorer(target, vision), need: game.frames_per_round, valid: 0, recent: [], best: null, done: false, resolve };
  });
  const round = capture;
  capture = null;
  // the frames that earned the score go to the server, which re-scores them with the same model
  const pictures = round.best || round.recent;
  const frames = await Promise.all(pictures.map((p) => claimFrame(p, vision.verification.jpeg_quality)));
  pendingClaim = { type: "claim", round: index, score: round.scorer.score, frames };
  send(pendingClaim);
}

function buildBars() {
  const list = $("bars");
  list.replaceChildren();
  for (const name of expressions) {
    const li = document.createElement("li");
    li.dataset.expression = name;
    const label = document.createElement("span");
    label.textContent = name;
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.className = "fill";
    fill.style.display = "block";
    bar.appendChild(fill);
    const pct = document.createElement("span");
    pct.className = "pct";
    li.append(label, bar, pct);
    list.appendChild(li);
  }
}

function drawFrame(frame) {
  const overlay = $("overlay");
  const rect = overlay.getBoundingClientRect();
  overlay.width = rect.width;
  overlay.height = rect.height;
  const ctx = overlay.getContext("2d");
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  // the video is shown with object-fit: cover, so map frame pixels the same way
  const scale = Math.max(rect.width / frame.width, rect.height / frame.height);
  const dx = (rect.width - frame.width * scale) / 2;
  const dy = (rect.height - frame.height * scale) / 2;
  ctx.lineWidth = 3;
  for (const face of frame.faces) {
    ctx.strokeStyle = frame.faces.length === 1 ? "#3ec46d" : "#ff5050";
    ctx.strokeRect(dx + face.box.x * scale, dy + face.box.y * scale, face.box.w * scale, face.box.h * scale);
  }
  const probabilities = frame.faces.length === 1 ? frame.faces[0].probabilities : {};
  for (const li of $("bars").children) {
    const p = probabilities[li.dataset.expression] || 0;
    li.querySelector(".fill").style.width = `${Math.round(p * 100)}%`;
    li.querySelector(".pct").textContent = frame.faces.length === 1 ? `${Math.round(p * 100)}%` : "";
    li.classList.toggle("target-row", li.dataset.expression === currentTarget);
  }
  say($("frame-message"), frame.message, frame.status);
  // during a round: the frame's acting score (the judge's curve) beside the model's probability
  const scored = frame.target_score !== undefined;
  $("acting").hidden = !scored;
  if (scored) {
    $("acting-score").textContent = String(frame.target_score);
    $("acting-probability").textContent = String(Math.round(frame.target_probability * 100));
  }
  if (frame.progress !== undefined) $("progress-bar").style.width = `${Math.min(100, frame.progress * 100)}%`;
}

// ---- the game -------------------------------------------------------------------------------
async function countdown(seconds) {
  const box = $("countdown");
  box.hidden = false;
  for (const n of [3, 2, 1]) {
    box.textContent = String(n);
    await sleep((seconds * 1000) / 3);
  }
  box.hidden = true;
}

function showResults(over) {
  $("result-player").textContent = over.player;
  $("result-total").textContent = String(over.total);
  $("result-rank").textContent = String(over.rank);
  $("result-place").hidden = !over.saved; // a game kept for later has no place yet
  const note = [over.message || "", ...refusals].filter(Boolean).join(" ");
  say($("result-message"), note, over.saved ? (refusals.length ? "claim_refused" : "") : "not_saved");
  const list = $("result-rounds");
  list.replaceChildren();
  over.rounds.forEach((r, i) => {
    const li = document.createElement("li");
    li.dataset.target = r.target;
    li.dataset.score = String(r.score);
    const img = document.createElement("img");
    img.alt = `best frame of round ${i + 1}`;
    if (r.thumbnail.startsWith("data:image/jpeg;base64,")) img.src = r.thumbnail;
    const title = document.createElement("div");
    title.textContent = `${i + 1}. ${r.target}`;
    const score = document.createElement("div");
    score.className = "score";
    score.textContent = String(r.score) + (r.nailed ? " ★" : "");
    li.append(img, title, score);
    list.appendChild(li);
  });
  show("results");
}

async function playGame() {
  say($("camera-message"), "");
  $("play").disabled = true;
  try {
    if (!stream) stream = await openCamera();
    $("video").srcObject = stream;
    await inferenceReady;
    await connect();
    const ready = nextMessage("game");
    const inference = recognizer ? "browser" : "server";
    send({ type: "start", name: $("name").value, rounds: Number($("rounds").value), inference });
    const game = await ready;
    const local = game.inference === "browser";
    refusals = [];
    show("stage");
    if (local) startLocalFrames(game.fps);
    else startFrames(game.fps);
    for (let i = 0; i < game.targets.length; i++) {
      currentTarget = game.targets[i];
      $("round-label").textContent = `Round ${i + 1} of ${game.targets.length}`;
      $("target").textContent = currentTarget;
      $("progress-bar").style.width = "0";
      $("round-score").hidden = true;
      await countdown(game.countdown_seconds);
      const scored = nextMessage("round");
      const finished = i === game.targets.length - 1 ? nextMessage("over") : null;
      send({ type: "capture", round: i });
      if (local) await captureLocally(i, currentTarget, game);
      const result = await scored;
      $("round-score").textContent = String(result.score);
      $("round-score").hidden = false;
      if (finished) {
        const over = await finished;
        await sleep(800);
        stopFrames();
        socket.close();
        showResults(over);
        loadLeaderboard();
        return;
      }
      await sleep(1200);
    }
  } catch (problem) {
    stopFrames();
    show("start");
    say($("camera-message"), problem.message || String(problem), problem.reason || "error");
  } finally {
    $("play").disabled = false;
  }
}

// Whether this page runs the model itself: the server offers it, WebAssembly works, and the model loads.
async function prepareInference() {
  let mode = "server";
  if (vision?.inference === "browser" && canRunLocally()) {
    try {
      recognizer = await loadLocalRecognizer(vision);
      mode = "browser";
    } catch (e) {
      console.warn("the model cannot run in this page; the server will score the frames:", e);
    }
  }
  document.body.dataset.inference = mode;
  $("privacy").textContent =
    mode === "browser"
      ? "The model runs in this page: camera frames stay on your device. After each round only its best " +
        `${vision.rules.hold_frames} pictures of your face are sent, so that the server can check the score.`
      : "Camera frames are sent to this game server to be scored; they are not stored.";
}

async function init() {
  try {
    vision = await (await fetch("/api/vision")).json();
    expressions = vision.model.class_names;
    frameWidth = vision.capture_width;
  } catch {
    expressions = []; // the game still plays; bars and the per-expression board stay empty
  }
  // the model (~11 MB with the runtime) loads while the player reads the start screen; Play waits for it
  const play = $("play");
  const label = play.textContent;
  play.disabled = true;
  play.textContent = "Loading the model…";
  inferenceReady = prepareInference().finally(() => {
    play.disabled = false;
    play.textContent = label;
  });
  for (const name of expressions) {
    const option = document.createElement("option");
    option.value = option.textContent = name;
    $("board-expression").appendChild(option);
  }
  if (expressions.includes("happy")) $("board-expression").value = "happy";
  $("board-expression").addEventListener("change", fillExpressionBoard);
  $("start-form").addEventListener("submit", (event) => {
    event.preventDefault();
    playGame();
  });
  $("again").addEventListener("click", () => playGame());
  buildBars();
  show("start");
  loadLeaderboard();
}

init();
