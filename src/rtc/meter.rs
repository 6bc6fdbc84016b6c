//! The lobby's microphone level meter: an analyser on the microphone's stream, read ten times a
//! second, and the level arithmetic.

use gloo_timers::callback::Interval;
use web_sys::{AnalyserNode, AudioContext, MediaStream};

use super::JsError;

/// Reports the microphone's level (0..=100) about ten times a second while it lives.
pub struct MicMeter {
    context: AudioContext,
    _source: web_sys::MediaStreamAudioSourceNode,
    _timer: Interval,
}

impl MicMeter {
    pub fn new(stream: &MediaStream, on_level: impl Fn(u8) + 'static) -> Result<Self, JsError> {
        let context = AudioContext::new()?;
        let source = context.create_media_stream_source(stream)?;
        let analyser: AnalyserNode = context.create_analyser()?;
        analyser.set_fft_size(512);
        source.connect_with_audio_node(&analyser)?;
        let mut buf = vec![0u8; 512];
        let timer = Interval::new(100, move || {
            analyser.get_byte_time_domain_data(&mut buf);
            on_level(level(&buf));
        });
        Ok(MicMeter {
            context,
            _source: source,
            _timer: timer,
        })
    }
}

impl Drop for MicMeter {
    fn drop(&mut self) {
        let _ = self.context.close();
    }
}

/// RMS of 8-bit PCM centred on 128, scaled so speech lands mid-scale.
pub fn level(samples: &[u8]) -> u8 {
    if samples.is_empty() {
        return 0;
    }
    let sum: f64 = samples
        .iter()
        .map(|&s| (f64::from(s) - 128.0) / 128.0)
        .map(|x| x * x)
        .sum();
    let rms = (sum / samples.len() as f64).sqrt();
    (rms * 300.0).min(100.0) as u8
}

#[cfg(test)]
mod tests {
    #[test]
    fn level_is_zero_for_silence_and_capped() {
        assert_eq!(super::level(&[128; 64]), 0);
        assert_eq!(super::level(&[]), 0);
        assert_eq!(super::level(&[0, 255].repeat(32)), 100);
        let quiet: Vec<u8> = (0..64)
            .map(|i| if i % 2 == 0 { 124 } else { 132 })
            .collect();
        assert!((5..20).contains(&super::level(&quiet)));
    }
}
