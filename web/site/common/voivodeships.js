// The 16 voivodeships with their TERYT codes and Polish and English names, declared once in
// voivodeships.json beside this file (the slot search and the dashboard read it).
import { currentLanguage } from './i18n.js';

let voivodeshipList = null;
export async function voivodeships() {
  if (voivodeshipList === null) {
    const response = await fetch('/common/voivodeships.json');
    voivodeshipList = (await response.json()).voivodeships;
  }
  return voivodeshipList;
}

export function voivodeshipName(voivodeship) {
  return currentLanguage() === 'en' ? voivodeship.name_en : voivodeship.name;
}
