/** The sign-in window's landing page: hands the code back to the page that opened it. */
import { loadConfig, userManager } from './config';

await userManager(await loadConfig()).signinPopupCallback();
