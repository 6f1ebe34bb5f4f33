/**
 * @file Opening a file named by a user's dataset only when it is a regular file. A path there can
 * name a FIFO (opening it waits for a writer forever, and the thread with it) or a device such as
 * /dev/zero (read without end until memory runs out); neither is ever an image or a label file.
 */
import fs from 'node:fs';

/**
 * A file descriptor for reading `file`, or an error with code 'ENOTREG' when it is not a regular
 * file. O_NONBLOCK makes the open of a FIFO return at once; for a regular file it changes nothing.
 */
export function openRegularFile(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  let regular = false;
  try {
    regular = fs.fstatSync(fd).isFile();
  } finally {
    if (!regular) fs.closeSync(fd);
  }
  if (!regular) throw Object.assign(new Error(`${file} is not a regular file (a device, FIFO or socket)`), { code: 'ENOTREG' });
  return fd;
}

/** The whole of a regular file (see openRegularFile). */
export function readRegularFile(file: string): Buffer {
  const fd = openRegularFile(file);
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
