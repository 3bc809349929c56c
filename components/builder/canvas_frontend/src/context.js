import { createContext } from "react";

// What nodes need from the canvas: send an intent, the layout direction, which nodes show their inside, the texts.
export const CanvasContext = createContext({
  emit: () => {}, direction: "TB", expanded: new Set(), toggleExpanded: () => {}, highlightLayer: null, labels: {},
});
