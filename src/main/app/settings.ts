/**
 * @file App settings kept between launches (recent projects), in a small JSON file written
 * atomically (util/atomic-write) so a crash never leaves it half-written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write';
import { makeDirs } from '../util/make-dirs';

interface SettingsData {
  recentProjects: string[];
}

const MAX_RECENT = 10;

export class Settings {
  constructor(private readonly file: string) {}

  recentProjects(): string[] {
    return this.read().recentProjects;
  }

  addRecentProject(root: string): void {
    const data = this.read();
    data.recentProjects = [root, ...data.recentProjects.filter((p) => p !== root)].slice(0, MAX_RECENT);
    this.write(data);
  }

  private read(): SettingsData {
    try {
      const raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<SettingsData>;
      const recent = Array.isArray(raw.recentProjects) ? raw.recentProjects.filter((p) => typeof p === 'string') : [];
      return { recentProjects: recent };
    } catch {
      return { recentProjects: [] };
    }
  }

  private write(data: SettingsData): void {
    makeDirs(path.dirname(this.file));
    writeFileAtomic(this.file, JSON.stringify(data, null, 2));
  }
}
