// The camera: which ones exist, opening one, and saying clearly what went wrong when it can't
// be opened (blocked permission, no camera, camera in use, page not on https/localhost).

export type CameraProblem = 'insecure' | 'unsupported' | 'denied' | 'not-found' | 'busy' | 'unknown';

export interface CameraError {
  problem: CameraProblem;
  /** What happened and what to do, for the page. */
  message: string;
}

/** Turns whatever getUserMedia threw into a message a user can act on. */
export function describeCameraError(err: unknown): CameraError {
  const name =
    err instanceof Error || (typeof err === 'object' && err && 'name' in err)
      ? String((err as { name: unknown }).name)
      : '';
  const detail = err instanceof Error && err.message ? ` (${err.message})` : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return {
        problem: 'denied',
        message:
          'Camera access was blocked. Allow the camera for this site (the camera icon in the address bar, or the site settings) and press Start camera again.',
      };
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return {
        problem: 'not-found',
        message:
          'No camera was found. Connect a camera (or pick another one in the list) and press Start camera again.',
      };
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return {
        problem: 'busy',
        message: `The camera could not be started: another application may be using it. Close it and try again${detail}.`,
      };
    default:
      return {
        problem: 'unknown',
        message: `The camera could not be started${detail || `: ${String(err)}`}.`,
      };
  }
}

/** Why the camera API is missing, if it is: it exists only in secure contexts. */
export function cameraUnavailable(): CameraError | undefined {
  if (typeof window === 'undefined') return { problem: 'unsupported', message: 'No browser.' };
  if (!window.isSecureContext) {
    return {
      problem: 'insecure',
      message: `Browsers only allow the camera on https:// or http://localhost pages; this page is ${location.origin}. Open it as http://localhost:${location.port || 80}/ or over https.`,
    };
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    return {
      problem: 'unsupported',
      message: 'This browser has no camera API (navigator.mediaDevices.getUserMedia).',
    };
  }
  return undefined;
}

export interface Camera {
  deviceId: string;
  label: string;
}

/** The video inputs. Labels are empty until the user has granted camera access once. */
export async function listCameras(): Promise<Camera[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
}

/** Opens a camera (a given one, or the default), 640x480 preferred. Throws CameraError. */
export async function openCamera(deviceId?: string): Promise<MediaStream> {
  const missing = cameraUnavailable();
  if (missing) throw missing;
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        ...(deviceId ? { deviceId: { exact: deviceId } } : { facingMode: 'user' }),
        width: { ideal: 640 },
        height: { ideal: 480 },
        frameRate: { ideal: 30 },
      },
    });
  } catch (err) {
    throw describeCameraError(err);
  }
}

export function isCameraError(v: unknown): v is CameraError {
  return typeof v === 'object' && v !== null && 'problem' in v && 'message' in v;
}
