"""Pseudo-fakes from real faces only.

* self-blended images (SBI; Shiohara & Yamasaki, CVPR 2022): two differently
  augmented copies of one face blended through a deformed, blurred face mask;
* cross-identity blending (Face X-ray style) between two real faces of similar pose;
* a temporally consistent SBI for face tracks (one set of blend parameters, small jitter).

Every function takes a ``numpy.random.Generator``: the same seed gives the same output.
Images are RGB uint8 (H, W, 3); landmarks are dense face-mesh points (K, 2) in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)


def hull_mask(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Filled convex hull of the landmarks, float32 in [0, 1]."""
    h, w = size
    mask = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(np.float32)


def _odd(n: float) -> int:
    n = max(1, int(n))
    return n if n % 2 else n + 1


def deform_mask(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Elastic warp + random erosion/dilation + Gaussian blur: a soft, varied boundary."""
    h, w = mask.shape
    grid = 4
    noise = rng.normal(0.0, 0.035 * w, size=(2, grid, grid)).astype(np.float32)
    dx = cv2.resize(noise[0], (w, h), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(noise[1], (w, h), interpolation=cv2.INTER_CUBIC)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_LINEAR, borderValue=0)
    k = _odd(rng.uniform(0.02, 0.12) * w)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    if rng.random() < 0.5:
        warped = cv2.erode(warped, kernel)
    else:
        warped = cv2.dilate(warped, kernel)
    blur = _odd(rng.uniform(0.03, 0.2) * w)
    soft = cv2.GaussianBlur(warped, (blur, blur), 0)
    if soft.max() > 0:
        soft /= soft.max()
    return soft


def colour_jitter(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Hue / saturation / value shift, brightness-contrast and per-channel shift."""
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-6, 6) * strength) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] * (1 + rng.uniform(-0.25, 0.25) * strength), 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * (1 + rng.uniform(-0.2, 0.2) * strength), 0, 255)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    contrast = 1 + rng.uniform(-0.2, 0.2) * strength
    out = (out - out.mean()) * contrast + out.mean()
    out += rng.uniform(-12, 12, size=3) * strength
    return np.clip(out, 0, 255).astype(np.uint8)


def sharpen_or_blur(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        sigma = rng.uniform(0.4, 1.4)
        return cv2.GaussianBlur(img, (0, 0), sigma)
    blurred = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.8, 1.6))
    amount = rng.uniform(0.3, 1.0)
    return cv2.addWeighted(img, 1 + amount, blurred, -amount, 0)


def resample(img: np.ndarray, rng: np.random.Generator, low: float = 0.5) -> np.ndarray:
    h, w = img.shape[:2]
    f = rng.uniform(low, 0.95)
    small = cv2.resize(img, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def small_affine(img: np.ndarray, rng: np.random.Generator, max_shift: float = 0.03,
                 max_scale: float = 0.05) -> np.ndarray:
    h, w = img.shape[:2]
    s = 1 + rng.uniform(-max_scale, max_scale)
    tx, ty = rng.uniform(-max_shift, max_shift, size=2) * (w, h)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, s)
    m[:, 2] += (tx, ty)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def _pseudo_source(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = colour_jitter(img, rng)
    if rng.random() < 0.6:
        out = sharpen_or_blur(out, rng)
    if rng.random() < 0.3:
        out = resample(out, rng, low=0.6)
    return small_affine(out, rng)


def blend(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask[..., None]
    return np.clip(source.astype(np.float32) * m + target.astype(np.float32) * (1 - m),
                   0, 255).astype(np.uint8)


def self_blend(img: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """One SBI pseudo-fake and its blend mask (the mask is where the fake differs)."""
    source = _pseudo_source(img, rng)
    target = img
    if rng.random() < 0.5:  # which copy is transformed is random, as in SBI
        source, target = target, colour_jitter(img, rng, strength=0.3)
    mask = deform_mask(hull_mask(landmarks, img.shape[:2]), rng)
    mask *= rng.choice(BLEND_RATIOS)
    return blend(source, target, mask), mask


def _match_colour(source: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reinhard transfer in Lab, statistics taken inside the mask."""
    src = cv2.cvtColor(source, cv2.COLOR_RGB2LAB).astype(np.float32)
    tgt = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    sel = mask > 0.5
    if sel.sum() < 16:
        return source
    s_mean, s_std = src[sel].mean(0), src[sel].std(0) + 1e-3
    t_mean, t_std = tgt[sel].mean(0), tgt[sel].std(0) + 1e-3
    out = (src - s_mean) / s_std * t_std + t_mean
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def cross_blend(target: np.ndarray, target_lm: np.ndarray, donor: np.ndarray,
                donor_lm: np.ndarray, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Face X-ray style: the donor's face, aligned on the target's landmarks, blended in."""
    m, _ = cv2.estimateAffinePartial2D(donor_lm.astype(np.float32),
                                       target_lm.astype(np.float32))
    h, w = target.shape[:2]
    if m is None:
        return self_blend(target, target_lm, rng)
    warped = cv2.warpAffine(donor, m, (w, h), borderMode=cv2.BORDER_REFLECT)
    mask = deform_mask(hull_mask(target_lm, (h, w)), rng)
    warped = _match_colour(warped, target, mask)
    if rng.random() < 0.5:
        warped = sharpen_or_blur(warped, rng)
    mask *= rng.choice(BLEND_RATIOS[2:])
    return blend(warped, target, mask), mask


def pose_descriptor(landmarks: np.ndarray) -> np.ndarray:
    """Landmarks centred and scaled to unit size: near descriptors mean similar pose."""
    pts = landmarks.astype(np.float32)
    pts = pts - pts.mean(0)
    return (pts / (np.linalg.norm(pts) + 1e-6)).ravel()


@dataclass(frozen=True)
class Degradation:
    jpeg_quality: int | None
    scale: float | None
    noise_sigma: float
    h264_qp: int | None = None  # an H.264 intra frame at this constant quantiser


def random_degradation(rng: np.random.Generator, recipe: str = "heavy") -> Degradation:
    """``heavy``: JPEG q 30-95 (70%), down-up-scaling 0.35-0.95 (50%), noise (15%);
    ``mild`` keeps more of the blending traces: JPEG q 65-95 (50%), scaling 0.6-0.95
    (25%), noise (10%); ``video``: ``heavy`` with half of the compressed items encoded
    by H.264 at QP 24-45 instead of JPEG (FaceForensics++ c40 is QP 40: at that level
    JPEG-only training lost most of the detector's live-swap AUC, docs/MODELS.md)."""
    if recipe == "video":
        d = random_degradation(rng, "heavy")
        if d.jpeg_quality is not None and rng.random() < 0.5:
            return Degradation(None, d.scale, d.noise_sigma, h264_qp=int(rng.integers(24, 46)))
        return d
    if recipe == "mild":
        return Degradation(
            jpeg_quality=int(rng.integers(65, 96)) if rng.random() < 0.5 else None,
            scale=float(rng.uniform(0.6, 0.95)) if rng.random() < 0.25 else None,
            noise_sigma=float(rng.uniform(1, 3)) if rng.random() < 0.1 else 0.0,
        )
    return Degradation(
        jpeg_quality=int(rng.integers(30, 96)) if rng.random() < 0.7 else None,
        scale=float(rng.uniform(0.35, 0.95)) if rng.random() < 0.5 else None,
        noise_sigma=float(rng.uniform(1, 5)) if rng.random() < 0.15 else 0.0,
    )


def degrade(img: np.ndarray, d: Degradation, rng: np.random.Generator) -> np.ndarray:
    """Compression and resolution loss, applied alike to reals and fakes so that the
    model learns blending artefacts rather than compression."""
    out = img
    h, w = out.shape[:2]
    if d.scale is not None:
        small = cv2.resize(out, (max(8, int(w * d.scale)), max(8, int(h * d.scale))),
                           interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if d.noise_sigma:
        out = np.clip(out + rng.normal(0, d.noise_sigma, out.shape), 0, 255).astype(np.uint8)
    if d.jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]
    if d.h264_qp is not None:
        out = h264_round_trip(out, d.h264_qp)
    return np.ascontiguousarray(out)


def h264_round_trip(img: np.ndarray, qp: int) -> np.ndarray:
    """``img`` (RGB) encoded as one H.264 frame by x264 at constant quantiser ``qp``
    (4:2:0 chroma, deblocking: the artefacts of compressed video) and decoded again."""
    import av  # PyAV: the media package's decoder, with its bundled x264

    h, w = img.shape[:2]
    even = np.ascontiguousarray(img[:h - h % 2, :w - w % 2])
    if even.shape[0] < 2 or even.shape[1] < 2:
        return img
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = even.shape[1], even.shape[0], "yuv420p"
    enc.options = {"qp": str(qp), "preset": "ultrafast", "tune": "zerolatency"}
    frame = av.VideoFrame.from_ndarray(even, format="rgb24").reformat(format="yuv420p")
    dec = av.CodecContext.create("h264", "r")
    decoded = [f for packet in [*enc.encode(frame), *enc.encode(None)]
               for f in dec.decode(packet)]
    if not decoded:
        decoded = list(dec.decode(None))
    out = img.copy()
    out[:even.shape[0], :even.shape[1]] = decoded[0].to_ndarray(format="rgb24")
    return out


def soften(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The whole face down-scaled to 35-70% and back: how a small face in a low-resolution
    frame looks once cropped and upscaled to the detector's input."""
    scale = float(rng.uniform(0.35, 0.7))
    return degrade(img, Degradation(jpeg_quality=None, scale=scale, noise_sigma=0.0), rng)


def temporal_self_blend(frames: list[np.ndarray], landmarks: list[np.ndarray],
                        rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """SBI along a face track: one source transform and blend ratio for every frame, the
    mask following each frame's landmarks, with a small per-frame jitter."""
    seed = int(rng.integers(0, 2**31))
    ratio = rng.choice(BLEND_RATIOS)
    swap = rng.random() < 0.5
    fakes, masks = [], []
    for img, lm in zip(frames, landmarks, strict=True):
        shared = np.random.default_rng(seed)  # same transform parameters for each frame
        source = _pseudo_source(img, shared)
        target = img
        if swap:
            source, target = target, colour_jitter(img, shared, strength=0.3)
        mask = deform_mask(hull_mask(lm, img.shape[:2]), np.random.default_rng(seed + 1))
        jitter = rng.uniform(-0.03, 0.03)
        mask = np.clip(mask * (ratio + jitter), 0, 1)
        fakes.append(blend(source, target, mask))
        masks.append(mask)
    return fakes, masks


def lower_face_points(landmarks: np.ndarray) -> np.ndarray:
    """Mesh points from the nose down (mouth, cheeks, chin): the region that expression
    reenactment and lip-sync rewrite. Index 1 of MediaPipe's mesh is the nose tip."""
    pts = np.asarray(landmarks, dtype=np.float32)
    return pts[pts[:, 1] >= pts[1, 1] - 0.05 * np.ptp(pts[:, 1])]


def self_reenact(img: np.ndarray, landmarks: np.ndarray, other: np.ndarray,
                 other_lm: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A reenactment-style pseudo-fake: the mouth and lower face of *another frame of the
    same person*, aligned on the face mesh and blended into this frame. The identity is
    unchanged (as with Face2Face, NeuralTextures or a lip-sync), only the lower face is
    foreign, with its resampling and boundary."""
    h, w = img.shape[:2]
    m, _ = cv2.estimateAffinePartial2D(other_lm.astype(np.float32),
                                       landmarks.astype(np.float32))
    if m is None:
        return self_blend(img, landmarks, rng)
    warped = cv2.warpAffine(other, m, (w, h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
    mask = deform_mask(hull_mask(lower_face_points(landmarks), (h, w)), rng)
    warped = _match_colour(warped, img, mask)
    if rng.random() < 0.5:
        warped = sharpen_or_blur(warped, rng)
    if rng.random() < 0.3:
        warped = resample(warped, rng, low=0.6)
    mask *= rng.choice(BLEND_RATIOS[2:])
    return blend(warped, img, mask), mask


def temporal_self_reenact(frames: list[np.ndarray], landmarks: list[np.ndarray],
                          donors: list[np.ndarray], donor_landmarks: list[np.ndarray],
                          rng: np.random.Generator
                          ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A lip-sync-like pseudo-fake of a face track: the lower face of each frame replaced
    by the lower face of its donor (another frame of the same track: a time-shifted or
    shuffled one, chosen by the caller), so the mouth's motion no longer matches the head's.
    ``self_reenact`` on each frame with one set of blend parameters for the whole track
    (mask deformation, colour, sharpening, ratio), the mask following each frame's mesh."""
    seed = int(rng.integers(0, 2**31))
    fakes, masks = [], []
    for img, lm, donor, donor_lm in zip(frames, landmarks, donors, donor_landmarks,
                                        strict=True):
        fake, mask = self_reenact(img, lm, donor, donor_lm, np.random.default_rng(seed))
        fakes.append(fake)
        masks.append(mask)
    return fakes, masks


def pair_mask(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Where an aligned fake differs from its own original, in [0, 1] (smoothed, with
    compression noise below the floor removed)."""
    diff = np.abs(real.astype(np.float32) - fake.astype(np.float32)).mean(axis=2)
    diff = cv2.GaussianBlur(diff, (0, 0), max(1.0, real.shape[0] / 64))
    return np.clip((diff - 4.0) / 12.0, 0.0, 1.0)


def smooth_skin(img: np.ndarray, strength: float) -> np.ndarray:
    """A whole-image edge-preserving smoothing, like a webcam "touch up" or beauty filter:
    smooth skin on a real person is not a manipulation, so training shows it on both sides."""
    sigma = 15 + 45 * strength
    out = cv2.bilateralFilter(img, d=7, sigmaColor=sigma, sigmaSpace=3 + 6 * strength)
    return cv2.addWeighted(out, 0.5 + 0.5 * strength, img, 0.5 - 0.5 * strength, 0)
