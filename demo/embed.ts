// The embedding example: defines <ei-simulation> for the element in embed.html and mounts a second simulation with
// mount(); the handle is kept on window for tests.
import { defineSimulationElement, mount, type MountedSimulation } from '../src/browser.ts';

declare global {
  interface Window {
    __eiEmbed?: { mounted: MountedSimulation };
  }
}

defineSimulationElement();
window.__eiEmbed = { mounted: mount(document.getElementById('binary')!, { model: 'binary', n: 400, steps: 5000, seed: 1 }) };
