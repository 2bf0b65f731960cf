import * as core from '@actions/core'
import { post } from './post.js'
import { run } from './main.js'
import { State } from './state.js'
import { errorMessage } from './text.js'

// The only top-level call: one bundle serves the main step and the post step.
async function entry(): Promise<void> {
  if (core.getState(State.IsPost) === 'true') {
    await post()
  } else {
    core.saveState(State.IsPost, 'true')
    await run()
  }
}

entry().catch((err: unknown) => {
  core.setFailed(errorMessage(err))
})
